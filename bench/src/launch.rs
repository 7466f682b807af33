//! Running one side of a comparison in a process of its own and reading its JSON line.

use crate::summary::Run;
use crate::{Group, Side};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

/// What every side needs besides its group: where the programs and the data are.
pub struct Launcher {
    /// This `cnn-bench` binary, for the crate's side (`cnn-bench side`).
    pub exe: PathBuf,
    pub python: PathBuf,
    /// The folder of the peer scripts.
    pub peers: PathBuf,
    pub data_path: PathBuf,
    pub device: String,
    pub threads: i32,
    /// torch.compile the tuned peer.
    pub compile: bool,
}

/// The options that tell a peer which net to build: the model's name and, for an FMP net,
/// the sizes the crate computes for it (so both sides build the same layers).
fn model_args(model: &str) -> Result<Vec<String>> {
    let mut args = vec!["--model".to_string(), model.to_string()];
    if let support::models::ModelSpec::Fmp(config) = support::models::ModelSpec::preset(model)? {
        let sizes = config.sizes()?;
        let pooled: Vec<String> = sizes.pooled.iter().map(i64::to_string).collect();
        args.extend([
            "--fmp-input".into(),
            sizes.input.to_string(),
            "--fmp-pooled".into(),
            pooled.join(","),
            "--fmp-growth".into(),
            config.growth.to_string(),
        ]);
    }
    Ok(args)
}

impl Launcher {
    /// The command that runs `side` on `group`'s work.
    fn command(&self, group: &Group, side: Side) -> Result<Command> {
        let seconds = group.budget.seconds.unwrap_or(0.0).to_string();
        let test_images = group.budget.test_images.to_string();
        let batch = group.batch.to_string();
        let passes = group.passes.to_string();
        let script = side.script();
        let program = match script {
            Some(_) => &self.python,
            None => &self.exe,
        };
        let mut c = Command::new(program);
        // No side inherits this process's OpenMP wait policy: every side runs with OpenMP's
        // default, as a PyTorch user gets it and as `cnn train` runs.
        c.env_remove("OMP_WAIT_POLICY");
        let Some(script) = script else {
            c.arg("side")
                .args(["--model", &group.model, "--batch", &batch])
                .args(["--rotation", &group.rotation.to_string()])
                .args(["--seconds", &seconds, "--test-images", &test_images])
                .args(["--passes", &passes, "--device", &self.device])
                .arg("--data-path")
                .arg(&self.data_path)
                .env("CNN_THREADS", self.threads.to_string());
            if let Side::Crate(Some(regions)) = side {
                c.args(["--regions", &regions.to_string()]);
            }
            return Ok(c);
        };
        c.arg(script)
            .args(model_args(&group.model)?)
            .args(["--batch-size", &batch])
            .args(["--seconds", &seconds, "--test-limit", &test_images])
            .args(["--passes", &passes, "--device", &self.device])
            .args(["--threads", &self.threads.to_string()])
            .arg("--data")
            .arg(&self.data_path)
            .current_dir(&self.peers);
        if side == Side::Tuned && self.compile {
            c.arg("--compile");
        }
        Ok(c)
    }

    /// Runs `side` once and returns its measurement.
    pub fn run(&self, group: &Group, side: Side) -> Result<Run> {
        let out = self
            .command(group, side)?
            .output()
            .with_context(|| format!("cannot start the side {}", side.name()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last: Vec<&str> = stderr.lines().rev().take(3).collect();
            bail!(
                "the side {} failed ({}): {}",
                side.name(),
                out.status,
                last.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
        }
        let line = stdout.lines().last().unwrap_or("");
        serde_json::from_str(line)
            .with_context(|| format!("the side {} printed no result line: {line:?}", side.name()))
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use support::models::{self, ModelSpec};
    use tch::nn;

    /// The peers build the same nets as the crate: equal parameter counts for every model
    /// `cnn bench` compares, asked of `bench/common.py` with the options the bench passes.
    #[test]
    fn peers_build_nets_with_the_crates_parameter_counts() {
        let root = support::repo::root().expect("the tests run inside the repository");
        let python = root.join(".venv/bin/python");
        if !python.exists() {
            eprintln!("SKIPPED: no .venv (run make setup) to ask the PyTorch peers");
            return;
        }
        for model in crate::PEER_MODELS {
            let out = Command::new(&python)
                .arg("common.py")
                .args(super::model_args(model).unwrap())
                .current_dir(root.join("bench"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let spec = ModelSpec::preset(model).unwrap().with_io(1, 10);
            spec.build(&vs.root()).unwrap();
            assert_eq!(
                v["parameters"].as_i64(),
                Some(models::parameter_count(&vs)),
                "{model}: the peer's net and the crate's differ"
            );
        }
    }
}
