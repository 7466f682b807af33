//! libtorch's OpenMP wait policy, chosen for the command before any work starts.
//!
//! After each op libtorch's idle OpenMP threads either spin for a while (OpenMP's default)
//! or sleep at once (`OMP_WAIT_POLICY=PASSIVE`). Spinning makes the next op start sooner,
//! but it takes the cores from the crate's own CPU kernels (the FMP layer's and the leaky
//! ReLU-dropout's), which run between libtorch's ops. Measured with `cnn bench-side`
//! (interleaved runs, 2 cores), images per second of training / evaluation:
//!
//! | model | PASSIVE | default |
//! |---|---|---|
//! | fmp-mnist, libtorch's windows | 451 / 92 | 351 / 80 |
//! | fmp-mnist, Graham's regions | 414 / 119 | 359 / 85 |
//! | lenet5-modern | 2,139 / 6,414 | 2,621 / 9,133 |
//!
//! So a command whose nets are all free of those kernels (LeNet-5, the fully connected
//! net) keeps the default, and every other command restarts itself with PASSIVE. OpenMP
//! reads the variable once, when libtorch is loaded, before `main`; hence the restart. A
//! policy set by the user is left alone.

use crate::{Cli, Command};
use support::models::ModelSpec;

const VAR: &str = "OMP_WAIT_POLICY";

/// Restarts this program with `OMP_WAIT_POLICY=PASSIVE` if `cli` may run the crate's own
/// CPU kernels and the variable is not set.
#[cfg(unix)]
pub fn choose_wait_policy(cli: &Cli) {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(VAR).is_some() || !may_run_crate_kernels(&cli.command) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(VAR, "PASSIVE")
        .exec();
    // Only reached when the restart failed; carry on with OpenMP's default.
    eprintln!("note: could not restart with {VAR}=PASSIVE ({err}); continuing");
}

/// False only for a command that trains or times nets without the crate's CPU kernels:
/// `train`, `reproduce` and `bench-side` of a LeNet-5 or the fully connected net. Anything
/// else, or a name that does not resolve (its error comes later), may run them.
fn may_run_crate_kernels(command: &Command) -> bool {
    let of_recipe = |name: &str| support::recipes::recipe(name).ok().map(|r| r.model);
    let spec = match command {
        Command::Train(args) => match (&args.recipe, &args.model) {
            (Some(recipe), _) => of_recipe(recipe),
            (None, Some(model)) => ModelSpec::preset(model).ok(),
            (None, None) => None,
        },
        Command::Reproduce(args) => of_recipe(&args.recipe),
        Command::BenchSide(args) => ModelSpec::preset(args.model()).ok(),
        _ => None,
    };
    !matches!(spec, Some(ModelSpec::Lenet5(_) | ModelSpec::Fcnn(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn may_run(args: &str) -> bool {
        let cli = Cli::try_parse_from(format!("cnn {args}").split_whitespace()).unwrap();
        may_run_crate_kernels(&cli.command)
    }

    #[test]
    fn only_commands_of_nets_without_the_crates_kernels_keep_the_default() {
        assert!(!may_run("train lenet5-modern"));
        assert!(!may_run("train fcnn"));
        assert!(!may_run("train --recipe lecun-1998"));
        assert!(!may_run("reproduce lecun-1998-sdlm"));
        assert!(!may_run(
            "bench-side --model lenet5-modern --batch 64 --test-images 10 --data-path d"
        ));
        assert!(may_run("train fmp-mnist"));
        assert!(may_run("train --recipe course-502"));
        assert!(may_run("reproduce graham-mnist"));
        assert!(may_run(
            "bench-side --model fmp-mnist --batch 32 --test-images 10 --data-path d"
        ));
        assert!(may_run("train no-such-net"));
        assert!(may_run("eval some-run"));
        assert!(may_run("bench --quick"));
    }
}
