//! `cnn-bench --profile`: where one training step of a model (`fmp-mnist` unless `--model`
//! names another) spends its time on the CPU, layer by layer of the model's own
//! `layers()`: the list its forward pass runs, so that no net is copied here.
//!
//! libtorch's profiler is not bound by tch, so every layer is run on its own, on a
//! detached input, and timed with `Instant` (CPU ops are synchronous). Forward: the
//! layer's output. Backward: `autograd.grad` of `sum(out * g)` (g is the gradient the next
//! layer sent back) with respect to the layer's input only (backward-data) or its
//! parameters only (backward-weights); autograd then computes just that. The probe's own
//! cost, the backward of one multiply-and-sum, is timed on its own and subtracted. The
//! whole step through the model (forward, backward, Adam) is timed too, so that the sum of
//! the stages can be checked against it.

use anyhow::{Result, bail};
use std::time::Instant;
use support::models::{Model, ModelSpec};
use support::train::{Optimizer, Stepper};
use tch::{Device, Kind, Tensor, nn};

/// Repetitions per batch size; the median of each stage is reported.
const REPEATS: usize = 7;

/// Seconds that `f` takes, with its result.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

/// The gradients of `sum(out * g)` with respect to `inputs`, and the seconds they took.
fn backward(out: &Tensor, g: &Tensor, inputs: &[Tensor]) -> (Vec<Tensor>, f64) {
    timed(|| Tensor::run_backward(&[(out * g).sum(Kind::Float)], inputs, true, false))
}

/// One training step at `batch`, stage by stage: each layer's forward, then from the last
/// layer back, its backward-data and backward-weights. Returns (stage, seconds) in the
/// order they ran.
fn profile_step(model: &dyn Model, batch: i64) -> Vec<(String, f64)> {
    let (channels, side) = model.input_shape();
    let x = Tensor::randn([batch, channels, side, side], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let layers = model.layers();
    let mut rows = Vec::new();
    let mut stages = Vec::new();
    let mut input = x;
    for layer in &layers {
        let detached = input.detach().set_requires_grad(true);
        let (out, secs) = timed(|| layer.forward(&detached, true));
        rows.push((format!("{} forward", layer.name), secs));
        stages.push((detached, out.shallow_clone()));
        input = out;
    }
    let scores = input.detach().set_requires_grad(true);
    let mut g =
        Tensor::run_backward(&[model.loss(&scores, &y)], &[&scores], false, false).remove(0);
    for (i, (layer, (detached, out))) in layers.iter().zip(&stages).enumerate().rev() {
        // The probe's own backward, on an input that is only multiplied and summed.
        let alone = out.detach().set_requires_grad(true);
        let (_, probe) = backward(&alone, &g, &[alone.shallow_clone()]);
        if !layer.parameters.is_empty() {
            let params: Vec<Tensor> = layer.parameters.iter().map(|t| t.shallow_clone()).collect();
            let (_, secs) = backward(out, &g, &params);
            rows.push((format!("{} backward-weights", layer.name), secs - probe));
        }
        if i > 0 {
            let (mut grads, secs) = backward(out, &g, &[detached.shallow_clone()]);
            rows.push((format!("{} backward-data", layer.name), secs - probe));
            g = grads.remove(0);
        }
    }
    rows
}

/// Times whole steps (forward, backward, Adam) through the model, Adam alone, and an
/// evaluation forward pass (under `no_grad`, as `evaluate` runs it).
fn whole_step(net: &dyn Model, opt: &mut Stepper, batch: i64) -> (f64, f64, f64) {
    let (channels, side) = net.input_shape();
    let x = Tensor::randn([batch, channels, side, side], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let (_, step) = timed(|| {
        let loss = net.loss(&net.forward_t(&x, true), &y);
        opt.zero_grad();
        loss.backward();
        opt.step();
    });
    let loss = net.loss(&net.forward_t(&x, true), &y);
    opt.zero_grad();
    loss.backward();
    let (_, adam) = timed(|| opt.step());
    let (_, eval) = timed(|| tch::no_grad(|| net.forward_t(&x, false)));
    (step, adam, eval)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Prints the per-layer profile of `model` (a model name, with its preset's channels) at
/// each batch size in `batches`.
pub fn run(model: &str, batches: &[i64]) -> Result<()> {
    if batches.iter().any(|&b| b < 1) {
        bail!("batch sizes must be positive, got {batches:?}");
    }
    let spec = ModelSpec::preset(model)?;
    let threads = support::device::choose_device(Some("cpu"))?.threads;
    println!(
        "profile of one {model} training step on CPU, {threads} thread(s), median of \
         {REPEATS} steps (ms per step; % of the sum of stages)"
    );
    for &batch in batches {
        support::seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = spec.build(&vs.root())?;
        let mut opt = Optimizer::Adam.build_for(&vs, 1e-3)?;
        let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
        let (mut steps, mut adams, mut evals) = (Vec::new(), Vec::new(), Vec::new());
        for rep in 0..=REPEATS {
            let stages = profile_step(net.as_ref(), batch);
            let (step, adam, eval) = whole_step(net.as_ref(), &mut opt, batch);
            if rep == 0 {
                continue; // warm-up
            }
            steps.push(step);
            adams.push(adam);
            evals.push(eval);
            for (stage, secs) in stages {
                match rows.iter_mut().find(|(s, _)| *s == stage) {
                    Some((_, v)) => v.push(secs),
                    None => rows.push((stage, vec![secs])),
                }
            }
        }
        let mut table: Vec<(String, f64)> = rows.into_iter().map(|(s, v)| (s, median(v))).collect();
        table.push(("Adam step".into(), median(adams)));
        let total: f64 = table.iter().map(|(_, s)| s).sum();
        println!("\nbatch {batch}");
        println!("{:<72} {:>9} {:>6}", "stage", "ms", "%");
        table.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (stage, secs) in &table {
            println!(
                "{stage:<72} {:>9.2} {:>5.1}%",
                secs * 1e3,
                100.0 * secs / total
            );
        }
        let part = |pat: &str| -> f64 {
            table
                .iter()
                .filter(|(s, _)| s.ends_with(pat))
                .map(|(_, s)| s)
                .sum()
        };
        println!(
            "totals: forward {:.1} ms, backward-data {:.1} ms, backward-weights {:.1} ms, \
             Adam {:.1} ms",
            1e3 * part(" forward"),
            1e3 * part("backward-data"),
            1e3 * part("backward-weights"),
            1e3 * part("Adam step"),
        );
        let step = median(steps);
        println!(
            "sum of stages {:.1} ms; whole step through the model {:.1} ms = {:.0} images/s",
            total * 1e3,
            step * 1e3,
            batch as f64 / step
        );
        let eval = median(evals);
        println!(
            "evaluation forward (no_grad) {:.1} ms = {:.0} images/s",
            eval * 1e3,
            batch as f64 / eval
        );
    }
    Ok(())
}
