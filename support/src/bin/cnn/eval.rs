//! `cnn eval <run> [--repeats N]`: test accuracy, confusion matrix, repeated passes.

use crate::train::RunSpec;
use anyhow::Result;
use support::train::{self, EvalOpts, checkpoint::CHECKPOINT, ensemble_curve, evaluate};

pub fn run(run: &str, repeats: usize, device: Option<&str>) -> Result<()> {
    let spec = RunSpec::read(run)?;
    let data = spec.load_data()?;
    let (mut vs, model) = spec.build(device, &data)?;
    let dir = train::checkpoint::existing_run_dir(run)?;
    train::load_checkpoint(&mut vs, &dir.join(CHECKPOINT))?;
    let opts = EvalOpts::new(vs.device());
    let eval = evaluate(model.as_ref(), &data, &opts)?;
    println!("{} on the {} test set:\n{eval}", spec.model, data.name);
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
