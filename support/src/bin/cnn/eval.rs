//! `cnn eval <run> [--repeats N]`: test accuracy, confusion matrix, repeated passes.

use anyhow::Result;
use support::train::{self, EvalOpts, ensemble_curve, evaluate};

pub fn run(run: &str, repeats: usize, device: Option<&str>) -> Result<()> {
    let train::Rebuilt {
        dir,
        data,
        mut vs,
        model,
        ..
    } = train::rebuild(run, device)?;
    train::load_checkpoint(&mut vs, &dir)?;
    let opts = EvalOpts::new(vs.device());
    let eval = evaluate(model.as_ref(), &data, &opts)?;
    println!(
        "run {} on the {} test set:\n{eval}",
        dir.display(),
        data.name
    );
    if repeats > 1 {
        let counts: Vec<usize> = std::iter::successors(Some(1usize), |n| Some(n * 2))
            .take_while(|&n| n < repeats)
            .chain([repeats])
            .collect();
        let curve = ensemble_curve(model.as_ref(), &data, &opts, &counts)?;
        println!(
            "test error against the number of averaged passes:\n{}",
            curve.frame
        );
    }
    Ok(())
}
