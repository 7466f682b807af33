//! Evaluation: loss, accuracy and confusion matrix, and repeated passes.
//!
//! An FMP net draws new pooling regions on every pass, even at test time, so it is its
//! own ensemble: Graham averages the softmax of `n` passes,
//! `p(y | x) = (1/n) * sum_k softmax(f_k(x))`, and the test error falls as `n` grows
//! (12 passes take MNIST from 0.44 % to 0.34 %, in the paper). A deterministic model
//! gives `n` identical passes, so for one the functions here say so and do one pass.

use crate::data::{BatchOpts, Dataset, Examples};
use crate::models::Model;
use anyhow::{Context, Result, bail};
use polars::prelude::{Column, DataFrame, NamedFrom, Series};
use tch::{Device, Kind, Tensor};

/// Which examples of a [`Dataset`] to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Validation,
    Test,
}

/// How to evaluate: which split, in batches of what size, on which device (the model's).
#[derive(Debug, Clone)]
pub struct EvalOpts {
    pub split: Split,
    pub batch_size: usize,
    pub device: Device,
}

impl EvalOpts {
    /// The test split on `device` (pass `vs.device()`), in batches of 64 on a CPU and 256
    /// elsewhere. On a CPU the smaller batch keeps each layer's activations in cache, which
    /// made repeated passes of fmp-mnist faster (docs/speed-history.md).
    pub fn new(device: Device) -> Self {
        EvalOpts {
            split: Split::Test,
            batch_size: if device == Device::Cpu { 64 } else { 256 },
            device,
        }
    }
}

/// What [`evaluate`] returns.
#[derive(Debug)]
pub struct Evaluation {
    /// Mean loss per example.
    pub loss: f64,
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Rows: true class (`class`, text); one `i64` column per predicted class name.
    pub confusion: DataFrame,
    /// The predicted class of each example, `i64` `[N]`, on the CPU.
    pub predictions: Tensor,
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "loss {:.4}, accuracy {:.4} (error {:.2} %)",
            self.loss,
            self.accuracy,
            100.0 * (1.0 - self.accuracy)
        )?;
        write!(f, "{}", self.confusion)
    }
}

/// The examples of `split`, or an error if the data set has none.
pub(crate) fn examples(data: &Dataset, split: Split) -> Result<&Examples> {
    let ex = match split {
        Split::Train => &data.train,
        Split::Test => &data.test,
        Split::Validation => match &data.validation {
            Some(v) => v,
            None => bail!(
                "{} has no validation split; load it with a validation share, or evaluate \
                 on Split::Test",
                data.name
            ),
        },
    };
    if ex.is_empty() {
        bail!("the {split:?} split of {} is empty", data.name);
    }
    Ok(ex)
}

/// Number of correct predictions in a batch output.
pub(crate) fn correct(model: &dyn Model, out: &Tensor, labels: &Tensor) -> i64 {
    tch::no_grad(|| {
        model
            .scores(out)
            .argmax(-1, false)
            .eq_tensor(labels)
            .sum(Kind::Int64)
            .int64_value(&[])
    })
}

fn batch_opts(model: &dyn Model, data: &Dataset, opts: &EvalOpts) -> Result<BatchOpts> {
    if opts.batch_size == 0 {
        bail!("the evaluation batch size is 0; use a positive one such as 256");
    }
    super::checks::check_inputs(model, data, 1)?;
    Ok(model.batch_opts(data, opts.batch_size, opts.device))
}

/// Mean loss and accuracy of one pass over `examples` (used for validation in `fit`).
pub(crate) fn loss_and_accuracy(
    model: &dyn Model,
    data: &Dataset,
    examples: &Examples,
    opts: &EvalOpts,
) -> Result<(f64, f64)> {
    let bo = batch_opts(model, data, opts)?;
    let (mut loss, mut right, mut n) = (0.0, 0i64, 0usize);
    tch::no_grad(|| {
        for (x, y) in examples.batches(&bo) {
            let out = model.forward_t(&x, false);
            let b = y.size()[0] as usize;
            loss += model.loss(&out, &y).double_value(&[]) * b as f64;
            right += correct(model, &out, &y);
            n += b;
        }
    });
    Ok((loss / n.max(1) as f64, right as f64 / n.max(1) as f64))
}

/// Loss, accuracy, confusion matrix and predictions of one test-mode pass over a split.
pub fn evaluate(model: &dyn Model, data: &Dataset, opts: &EvalOpts) -> Result<Evaluation> {
    let ex = examples(data, opts.split)?;
    let bo = batch_opts(model, data, opts)?;
    let (mut loss, mut n) = (0.0, 0usize);
    let mut preds = Vec::new();
    tch::no_grad(|| {
        for (x, y) in ex.batches(&bo) {
            let out = model.forward_t(&x, false);
            let b = y.size()[0] as usize;
            loss += model.loss(&out, &y).double_value(&[]) * b as f64;
            preds.push(model.scores(&out).argmax(-1, false).to_device(Device::Cpu));
            n += b;
        }
    });
    let predictions = Tensor::cat(&preds, 0);
    let accuracy = accuracy(&predictions, &ex.labels);
    Ok(Evaluation {
        loss: loss / n.max(1) as f64,
        accuracy,
        confusion: confusion(&data.classes, &ex.labels, &predictions)?,
        predictions,
    })
}

fn accuracy(predictions: &Tensor, labels: &Tensor) -> f64 {
    let n = labels.size()[0].max(1);
    predictions
        .eq_tensor(labels)
        .sum(Kind::Int64)
        .int64_value(&[]) as f64
        / n as f64
}

/// The confusion matrix: row `i`, column `j` counts images of class `i` predicted `j`.
pub fn confusion(classes: &[String], labels: &Tensor, predictions: &Tensor) -> Result<DataFrame> {
    let c = classes.len() as i64;
    let counts = (labels * c + predictions).bincount::<Tensor>(None, c * c);
    let counts: Vec<i64> = Vec::try_from(counts.to_kind(Kind::Int64))?;
    let mut columns: Vec<Column> = vec![Series::new("class".into(), classes.to_vec()).into()];
    for (j, name) in classes.iter().enumerate() {
        let col: Vec<i64> = (0..classes.len())
            .map(|i| counts.get(i * classes.len() + j).copied().unwrap_or(0))
            .collect();
        columns.push(Series::new(name.as_str().into(), col).into());
    }
    DataFrame::new(classes.len(), columns)
        .with_context(|| format!("cannot make a confusion matrix of the classes {classes:?}"))
}

/// Runs `passes` test-mode passes over the split, calling `record(k, sum)` after pass `k`
/// of each batch with the running sum of softmax outputs. Each batch is made once.
fn sweep(
    model: &dyn Model,
    data: &Dataset,
    opts: &EvalOpts,
    passes: usize,
    mut record: impl FnMut(usize, &Tensor, &Tensor),
) -> Result<()> {
    let ex = examples(data, opts.split)?;
    let bo = batch_opts(model, data, opts)?;
    tch::no_grad(|| {
        for (x, y) in ex.batches(&bo) {
            let mut sum: Option<Tensor> = None;
            for k in 1..=passes {
                let p = model
                    .scores(&model.forward_t(&x, false))
                    .softmax(-1, Kind::Float);
                let s = match sum.take() {
                    Some(s) => s + p,
                    None => p,
                };
                record(k, &s, &y);
                sum = Some(s);
            }
        }
    });
    Ok(())
}

/// The passes worth running: `n` for a model random at test time, else one (said aloud).
fn useful_passes(model: &dyn Model, n: usize) -> usize {
    if n > 1 && !model.random_at_test_time() {
        println!(
            "this model has no randomness at test time, so its {n} passes would be \
             identical: running one"
        );
        1
    } else {
        n
    }
}

/// Class probabilities `[N, classes]` (CPU) averaged over `n` test-mode passes:
/// `(1/n) * sum_k softmax(scores_k)`.
pub fn predict_repeated(
    model: &dyn Model,
    data: &Dataset,
    opts: &EvalOpts,
    n: usize,
) -> Result<Tensor> {
    if n == 0 {
        bail!("predict_repeated needs at least one pass (n = 0 was given)");
    }
    let passes = useful_passes(model, n);
    let mut out = Vec::new();
    sweep(model, data, opts, passes, |k, sum, _| {
        if k == passes {
            out.push((sum / passes as f64).to_device(Device::Cpu));
        }
    })?;
    Ok(Tensor::cat(&out, 0))
}

/// Test accuracy against the number of averaged passes, from [`ensemble_curve`].
#[derive(Debug, Clone)]
pub struct Ensemble {
    /// One row per pass count: `passes` (i64), `error` and `accuracy` (fractions).
    pub frame: DataFrame,
    counts: Vec<usize>,
    accuracies: Vec<f64>,
}

impl Ensemble {
    /// The test accuracy with `passes` passes averaged, if that count was measured.
    pub fn accuracy(&self, passes: usize) -> Result<f64> {
        match self.counts.iter().position(|&c| c == passes) {
            Some(i) => Ok(self.accuracies[i]),
            None => bail!(
                "the ensemble curve was measured for {:?} passes, not {passes}; add {passes} \
                 to the counts given to ensemble_curve",
                self.counts
            ),
        }
    }
}

/// Test accuracy against the number of averaged passes. All passes run once, and the
/// running average is scored at each count in `counts`.
pub fn ensemble_curve(
    model: &dyn Model,
    data: &Dataset,
    opts: &EvalOpts,
    counts: &[usize],
) -> Result<Ensemble> {
    let Some(&max) = counts.iter().max() else {
        bail!("ensemble_curve needs at least one pass count, e.g. &[1, 2, 4, 8, 12]");
    };
    if counts.contains(&0) {
        bail!("a pass count of 0 makes no prediction; start the counts at 1");
    }
    let passes = useful_passes(model, max);
    let mut correct = vec![0i64; passes + 1];
    let mut total = 0i64;
    sweep(model, data, opts, passes, |k, sum, y| {
        correct[k] += sum
            .argmax(-1, false)
            .eq_tensor(y)
            .sum(Kind::Int64)
            .int64_value(&[]);
        if k == 1 {
            total += y.size()[0];
        }
    })?;
    let acc: Vec<f64> = counts
        .iter()
        .map(|&c| correct[c.min(passes)] as f64 / total.max(1) as f64)
        .collect();
    let columns: Vec<Column> = vec![
        Series::new(
            "passes".into(),
            counts.iter().map(|&c| c as i64).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "error".into(),
            acc.iter().map(|a| 1.0 - a).collect::<Vec<_>>(),
        )
        .into(),
        Series::new("accuracy".into(), acc.clone()).into(),
    ];
    Ok(Ensemble {
        frame: DataFrame::new(counts.len(), columns)?,
        counts: counts.to_vec(),
        accuracies: acc,
    })
}
