//! `cnn bench --profile`: where one training step of an FMP net (`fmp-mnist` unless
//! `--model` names another) spends its time on CPU.
//!
//! libtorch's profiler is not bound by tch, so every op of the step is run as its own
//! stage on a detached input and timed with `Instant` (CPU ops are synchronous). Forward:
//! each stage's output. Backward: `autograd.grad` of `sum(out * g)` (g is the gradient the
//! next stage sent back) with respect to the stage's input only (backward-data) or its
//! parameters only (backward-weights); autograd then computes just that output. The probe's
//! own cost, the backward of one multiply-and-sum, is timed on its own and subtracted.
//! The stages run channels-last, as the model does on a CPU. Memory-format reorders happen
//! inside oneDNN's convolutions and are counted in them (`ONEDNN_VERBOSE=1` lists them).
//! The whole step through the model (forward, backward, Adam) is timed too, so the sum
//! of the stages can be checked against it.

use anyhow::{Context, Result, bail};
use std::time::Instant;
use support::fmp::Fmp;
use support::layout::to_channels_last_on_cpu;
use support::models::leaky_dropout::leaky_relu_dropout;
use support::models::{self, FmpConfig};
use support::train::Optimizer;
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor, nn};

/// Repetitions per batch size; the median of each op kind is reported.
const REPEATS: usize = 7;

/// Seconds that `f` takes, with its result.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

/// One stage of the step as run: its kind, detached input, output and parameters.
struct Stage {
    kind: String,
    input: Tensor,
    output: Tensor,
    params: Vec<Tensor>,
}

/// Seconds per op kind in one repetition, in first-seen order.
#[derive(Default)]
struct Tally(Vec<(String, f64)>);

impl Tally {
    fn add(&mut self, kind: &str, secs: f64) {
        match self.0.iter_mut().find(|(k, _)| k == kind) {
            Some((_, s)) => *s += secs,
            None => self.0.push((kind.to_string(), secs)),
        }
    }
}

fn var(vars: &std::collections::HashMap<String, Tensor>, name: &str) -> Result<Tensor> {
    vars.get(name)
        .map(Tensor::shallow_clone)
        .with_context(|| format!("the FMP net has no variable {name}"))
}

/// One profiled training step at `batch`: forward and backward per stage, then Adam.
fn profile_step(vs: &nn::VarStore, config: &FmpConfig, batch: i64) -> Result<Tally> {
    let vars = vs.variables();
    let sizes = config.sizes()?;
    let mut tally = Tally::default();
    let mut stages: Vec<Stage> = Vec::new();
    let mut x = Tensor::randn(
        [batch, config.in_channels, sizes.input, sizes.input],
        (Kind::Float, Device::Cpu),
    );
    let labels = Tensor::randint(config.classes, [batch], (Kind::Int64, Device::Cpu));
    let slope = config.leaky_slope;
    let mut run = |tally: &mut Tally,
                   x: &Tensor,
                   kind: String,
                   params: Vec<Tensor>,
                   f: &dyn Fn(&Tensor) -> Tensor|
     -> Tensor {
        let input = x.detach().set_requires_grad(true);
        let (output, secs) = timed(|| f(&input));
        tally.add(&format!("{kind} forward"), secs);
        let next = output.detach();
        stages.push(Stage {
            kind,
            input,
            output,
            params,
        });
        next
    };
    let blocks = config.layers;
    let dropout = config.dropout.rates(blocks)?;
    for n in 1..=blocks + 2 {
        let head = n > blocks;
        let prefix = match n {
            _ if n == blocks + 1 => "c2".to_string(),
            _ if n == blocks + 2 => "c1".to_string(),
            _ => format!("block{n}"),
        };
        let conv = if n == blocks + 2 {
            prefix.clone()
        } else {
            format!("{prefix}.conv")
        };
        let (w, b) = (
            var(&vars, &format!("{conv}.weight"))?,
            var(&vars, &format!("{conv}.bias"))?,
        );
        let c_in = w.size()[1];
        let label = format!("conv{} {c_in}->{}", w.size()[2], w.size()[0]);
        x = run(
            &mut tally,
            &x,
            format!("{label} ({prefix})"),
            vec![w.shallow_clone(), b.shallow_clone()],
            // As in the model: channels-last from the first convolution's input on (the
            // view or copy is counted in that convolution), so every later op keeps it.
            &|t| to_channels_last_on_cpu(t).conv2d(&w, Some(&b), [1, 1], [0, 0], [1, 1], 1),
        );
        if n == blocks + 2 {
            break;
        }
        let (g, beta) = (
            var(&vars, &format!("{prefix}.norm.weight"))?,
            var(&vars, &format!("{prefix}.norm.bias"))?,
        );
        let (mean, var_) = (
            var(&vars, &format!("{prefix}.norm.running_mean"))?,
            var(&vars, &format!("{prefix}.norm.running_var"))?,
        );
        x = run(
            &mut tally,
            &x,
            "BatchNorm".into(),
            vec![g.shallow_clone(), beta.shallow_clone()],
            &|t| {
                t.batch_norm(
                    Some(&g),
                    Some(&beta),
                    Some(&mean),
                    Some(&var_),
                    true,
                    0.1,
                    1e-5,
                    false,
                )
            },
        );
        // Block n's rate, or C2's after the blocks.
        let p = dropout[(n - 1).min(blocks)];
        if !head {
            let pool = Fmp::new(sizes.pooled[n - 1], config.regions);
            x = run(&mut tally, &x, "FMP".into(), vec![], &|t| {
                pool.forward_t(t, true)
            });
        }
        // As in the model: the pooling comes before the activation, which it commutes
        // with, and the leaky ReLU and dropout are one mask multiplication.
        x = run(
            &mut tally,
            &x,
            "leaky ReLU + dropout".into(),
            vec![],
            &|t| leaky_relu_dropout(t, slope, p, true),
        );
    }
    let (loss, secs) = timed(|| {
        x.set_requires_grad(true)
            .flatten(1, -1)
            .cross_entropy_for_logits(&labels)
    });
    tally.add("loss forward", secs);
    let logits_leaf = x;
    let (mut grad, secs) =
        timed(|| Tensor::run_backward(&[&loss], &[&logits_leaf], false, false).remove(0));
    tally.add("loss backward", secs);
    for (i, stage) in stages.iter().enumerate().rev() {
        let probe = stage.output.detach().set_requires_grad(true);
        let probe_sum = (&probe * &grad).sum(Kind::Float);
        let (_, overhead) = timed(|| Tensor::run_backward(&[&probe_sum], &[&probe], false, false));
        let s = (&stage.output * &grad).sum(Kind::Float);
        let is_conv = !stage.params.is_empty() && stage.kind.starts_with("conv");
        let kind = stage.kind.split(" (").next().unwrap_or("").to_string();
        if !stage.params.is_empty() {
            let (_, secs) = timed(|| Tensor::run_backward(&[&s], &stage.params, true, false));
            let what = if is_conv {
                "backward-weights"
            } else {
                "backward-params"
            };
            tally.add(&format!("{kind} {what}"), (secs - overhead).max(0.0));
        }
        if i == 0 {
            break; // the images need no gradient, so the real step skips this one
        }
        let (mut g, secs) = timed(|| Tensor::run_backward(&[&s], &[&stage.input], false, false));
        let what = if is_conv { "backward-data" } else { "backward" };
        tally.add(&format!("{kind} {what}"), (secs - overhead).max(0.0));
        grad = g.remove(0);
    }
    Ok(tally)
}

/// Times whole steps (forward, backward, Adam) through the model, Adam alone, and an
/// evaluation forward pass (under `no_grad`, as `evaluate` runs it).
fn whole_step(
    net: &dyn models::Model,
    opt: &mut support::train::Stepper,
    batch: i64,
) -> (f64, f64, f64) {
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

/// Prints the per-op-kind profile of the FMP net `model` (with its preset's channels) at
/// each batch size in `batches`.
pub fn run(model: &str, batches: &[i64]) -> Result<()> {
    if batches.iter().any(|&b| b < 1) {
        bail!("batch sizes must be positive, got {batches:?}");
    }
    let Some(config) = models::fmp_preset(model) else {
        bail!(
            "--profile takes an FMP net (fmp-mnist, fmp-cifar10, fmp-cifar10-large, fmp-tiny), not {model:?}"
        );
    };
    let threads = support::device::choose_device(Some("cpu"))?.threads;
    println!(
        "profile of one {model} training step on CPU, {threads} thread(s), median of \
         {REPEATS} steps (ms per step; % of the sum of stages)"
    );
    for &batch in batches {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = models::build(model, &vs.root(), config.in_channels, config.classes)?;
        let mut opt = Optimizer::Adam.build_for(&vs, 1e-3)?;
        let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
        let (mut steps, mut adams, mut evals) = (Vec::new(), Vec::new(), Vec::new());
        for rep in 0..=REPEATS {
            let tally = profile_step(&vs, &config, batch)?;
            let (step, adam, eval) = whole_step(net.as_ref(), &mut opt, batch);
            if rep == 0 {
                continue; // warm-up
            }
            steps.push(step);
            adams.push(adam);
            evals.push(eval);
            for (kind, secs) in tally.0 {
                match rows.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, v)) => v.push(secs),
                    None => rows.push((kind, vec![secs])),
                }
            }
        }
        let mut table: Vec<(String, f64)> = rows.into_iter().map(|(k, v)| (k, median(v))).collect();
        table.push(("Adam step".into(), median(adams)));
        let total: f64 = table.iter().map(|(_, s)| s).sum();
        let step = median(steps);
        println!("\nbatch {batch}");
        println!("{:<44} {:>9} {:>6}", "op", "ms", "%");
        let mut by_time = table.clone();
        by_time.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (kind, secs) in &by_time {
            println!(
                "{kind:<44} {:>9.2} {:>5.1}%",
                secs * 1e3,
                100.0 * secs / total
            );
        }
        let group = |pat: &str| -> f64 {
            table
                .iter()
                .filter(|(k, _)| k.contains(pat))
                .map(|(_, s)| s)
                .sum()
        };
        let conv_forward: f64 = table
            .iter()
            .filter(|(k, _)| k.starts_with("conv") && k.ends_with("forward"))
            .map(|(_, s)| s)
            .sum();
        println!(
            "totals: conv forward {:.1} ms, conv backward-data {:.1} ms, conv \
             backward-weights {:.1} ms, BatchNorm {:.1} ms, leaky ReLU + dropout {:.1} ms, FMP \
             {:.1} ms, Adam {:.1} ms",
            1e3 * conv_forward,
            1e3 * group("backward-data"),
            1e3 * group("backward-weights"),
            1e3 * group("BatchNorm"),
            1e3 * group("ReLU"),
            1e3 * group("FMP"),
            1e3 * group("Adam"),
        );
        println!(
            "sum of stages {:.1} ms; whole step through the model {:.1} ms = {:.0} images/s",
            total * 1e3,
            step * 1e3,
            batch as f64 / step
        );
        let eval = median(evals);
        println!(
            "evaluation forward (no_grad) {:.1} ms = {:.0} images/s: 12 passes over 10,000 \
             test images take about {:.0} s",
            eval * 1e3,
            batch as f64 / eval,
            12.0 * 10_000.0 * eval / batch as f64
        );
    }
    Ok(())
}
