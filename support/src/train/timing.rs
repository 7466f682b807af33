//! How long will training take? Exercise 502 asks students to time a few batches and
//! extrapolate; `estimate_epoch_time` does exactly that, and `compare_devices` puts the
//! CPU and a GPU side by side.
//!
//! The first batches are slow (allocations, kernel selection, caches), so a few warm-up
//! steps are discarded before timing. The weights are restored afterwards: timing does
//! not train the model.

use super::checks::check_inputs;
use super::config::Optimizer;
use crate::data::{BatchOpts, Dataset};
use crate::device::{cuda_available, device_name};
use crate::models::{Model, ModelSpec};
use anyhow::{Context, Result};
use polars::prelude::{Column, DataFrame, NamedFrom, Series};
use std::time::Instant;
use tch::{Device, nn};

const WARMUP: usize = 3;
const TIMED: usize = 10;

/// Seconds per training batch and what that means for one and many epochs.
#[derive(Debug, Clone)]
pub struct EpochEstimate {
    pub device: Device,
    pub batch_size: usize,
    pub seconds_per_batch: f64,
    pub batches_per_epoch: usize,
}

impl EpochEstimate {
    /// Seconds for one epoch: `seconds_per_batch * batches_per_epoch`.
    pub fn epoch_seconds(&self) -> f64 {
        self.seconds_per_batch * self.batches_per_epoch as f64
    }

    /// Seconds for `epochs` epochs.
    pub fn seconds_for(&self, epochs: usize) -> f64 {
        self.epoch_seconds() * epochs as f64
    }

    /// Training images per second.
    pub fn images_per_s(&self) -> f64 {
        self.batch_size as f64 / self.seconds_per_batch.max(1e-12)
    }
}

/// `2h05m`, `3m20s` or `42.0s`.
pub fn human_seconds(s: f64) -> String {
    let whole = s.max(0.0).round() as u64;
    if whole >= 3600 {
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    } else if whole >= 60 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{s:.1}s")
    }
}

impl std::fmt::Display for EpochEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {:.1} ms per batch of {} ({:.0} images/s); one epoch ({} batches) ~ {}, \
             10 epochs ~ {}, 100 epochs ~ {}",
            device_name(self.device),
            self.seconds_per_batch * 1e3,
            self.batch_size,
            self.images_per_s(),
            self.batches_per_epoch,
            human_seconds(self.epoch_seconds()),
            human_seconds(self.seconds_for(10)),
            human_seconds(self.seconds_for(100)),
        )
    }
}

/// Times `TIMED` Adam training steps on `vs.device()` after `WARMUP` untimed ones and
/// extrapolates to an epoch of `data.train`. The weights are put back afterwards.
pub fn estimate_epoch_time(
    model: &dyn Model,
    vs: &nn::VarStore,
    data: &Dataset,
    batch_size: usize,
) -> Result<EpochEstimate> {
    check_inputs(model, data, batch_size)?;
    let device = vs.device();
    let saved: Vec<(tch::Tensor, tch::Tensor)> = vs
        .variables()
        .into_values()
        .map(|v| {
            let copy = v.detach().copy();
            (v, copy)
        })
        .collect();
    let mut opt = Optimizer::Adam
        .build(vs, 1e-4, 0.0, batch_size)
        .context("cannot build the optimizer")?;
    let opts = BatchOpts {
        shuffle_seed: Some(0),
        ..model.batch_opts(data, batch_size, device)
    };
    // Cycle the training set: a tiny data set still gives WARMUP + TIMED batches.
    let mut batches = std::iter::repeat_with(|| data.train.batches(&opts)).flatten();
    let mut step = || {
        if let Some((x, y)) = batches.next() {
            let loss = model.loss(&model.forward_t(&x, true), &y);
            opt.backward_step(&loss);
            // Reading the loss waits for the device, so the time is the step's.
            loss.double_value(&[]);
        }
    };
    (0..WARMUP).for_each(|_| step());
    let start = Instant::now();
    (0..TIMED).for_each(|_| step());
    let seconds_per_batch = start.elapsed().as_secs_f64() / TIMED as f64;
    tch::no_grad(|| {
        for (mut v, copy) in saved {
            v.copy_(&copy);
        }
    });
    Ok(EpochEstimate {
        device,
        batch_size,
        seconds_per_batch,
        batches_per_epoch: data.train.len().div_ceil(batch_size),
    })
}

/// Times one epoch on the CPU and, if there is one, on the CUDA GPU, building the net
/// `model` describes (an `FmpConfig`, say) afresh on each. Columns: `device`,
/// `ms_per_batch`, `images_per_s`, `epoch_seconds`.
pub fn compare_devices(
    model: impl Into<ModelSpec>,
    data: &Dataset,
    batch_size: usize,
) -> Result<DataFrame> {
    let spec = model.into();
    let mut devices = vec![Device::Cpu];
    if cuda_available() {
        devices.push(Device::Cuda(0));
    } else {
        println!("no CUDA GPU here: timing the CPU only");
    }
    let mut rows = Vec::new();
    for device in devices {
        let vs = nn::VarStore::new(device);
        let model = spec.build(&vs.root())?;
        rows.push(estimate_epoch_time(model.as_ref(), &vs, data, batch_size)?);
    }
    let col = |f: fn(&EpochEstimate) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let columns: Vec<Column> = vec![
        Series::new(
            "device".into(),
            rows.iter()
                .map(|r| device_name(r.device))
                .collect::<Vec<_>>(),
        )
        .into(),
        Series::new("ms_per_batch".into(), col(|r| r.seconds_per_batch * 1e3)).into(),
        Series::new("images_per_s".into(), col(EpochEstimate::images_per_s)).into(),
        Series::new("epoch_seconds".into(), col(EpochEstimate::epoch_seconds)).into(),
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}
