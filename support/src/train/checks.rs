//! Checks run before training or evaluation, so that a wrong model, data set or setting
//! is a sentence that says what to change, not a libtorch backtrace minutes later.

use super::config::{FitConfig, Optimizer};
use crate::data::Dataset;
use crate::models::Model;
use anyhow::{Context, Result, bail};
use tch::Tensor;

/// Everything `fit` checks before it touches the run's folder: what a caller that holds
/// the folder's lock around `fit` checks first, so that bad input leaves no folder behind.
pub fn check_before_fit(
    model: &dyn Model,
    data: &Dataset,
    config: &FitConfig,
    device: tch::Device,
) -> Result<()> {
    check_fit(model, data, config, device)?;
    check_output(model, data, device)
}

/// Checks that `model` can train on `data` as `config` says, before anything is written
/// or any time is spent.
pub(crate) fn check_fit(
    model: &dyn Model,
    data: &Dataset,
    config: &FitConfig,
    device: tch::Device,
) -> Result<()> {
    if config.epochs == 0 {
        bail!("the number of epochs is 0, so nothing would be trained; train for 1 or more");
    }
    check_inputs(model, data, config.batch_size)?;
    check_weight_decay(config.weight_decay)?;
    if let Optimizer::Sdlm { samples, .. } = config.optimizer {
        if config.weight_decay != 0.0 {
            bail!(
                "SDLM takes no weight decay (the 1998 paper used none); set weight_decay to 0 \
                 or choose Adam, AdamW or SGD"
            );
        }
        if samples == 0 {
            bail!("SDLM estimates its curvature on 0 images; use a positive count such as 500");
        }
        // The estimate on two images: a model without one fails here, before any time is
        // spent or any file is touched.
        if let Some((x, _)) = data
            .train
            .batches(&model.batch_opts(data, 2, device))
            .next()
        {
            model.diagonal_curvature(&x)?;
        }
    }
    Ok(())
}

/// Checks that a weight decay is a number that shrinks weights: a negative one would
/// grow them, and NaN would spread to every weight on the first step.
pub(crate) fn check_weight_decay(wd: f64) -> Result<()> {
    if !(wd.is_finite() && wd >= 0.0) {
        bail!("the weight decay is {wd}; use 0 (none) or a small positive value such as 5e-4");
    }
    Ok(())
}

/// Checks that `model` takes `data`'s images, in batches of `batch_size`.
pub(crate) fn check_inputs(model: &dyn Model, data: &Dataset, batch_size: usize) -> Result<()> {
    let [c, h, w] = data.image_shape();
    let (mc, side) = model.input_shape();
    if c != mc {
        bail!(
            "the model expects {mc}-channel images but {} has {c} channel(s); build the \
             model with in_channels = {c}",
            data.name
        );
    }
    if h > side || w > side {
        bail!(
            "the model expects inputs of at most {side}x{side} pixels but {} has {h}x{w} \
             images; choose a model made for this image size",
            data.name
        );
    }
    if batch_size == 0 {
        bail!("the batch size is 0; use a positive batch size such as 64");
    }
    if batch_size > data.train.len() {
        bail!(
            "the batch size {batch_size} is larger than the {} training images of {}; use a \
             batch size of at most {}",
            data.train.len(),
            data.name,
            data.train.len()
        );
    }
    Ok(())
}

/// Runs one test forward pass on a couple of images to check the output width against
/// the number of classes, so that a wrong model is a sentence, not a libtorch backtrace.
pub(crate) fn check_output(model: &dyn Model, data: &Dataset, device: tch::Device) -> Result<()> {
    let opts = model.batch_opts(data, 2, device);
    let Some((x, _)) = data.train.batches(&opts).next() else {
        bail!("{} has no training images", data.name);
    };
    // Layer by layer, each input checked first: a model built for other images is an
    // error naming the layer, not a libtorch panic.
    let out =
        tch::no_grad(|| -> Result<Tensor> { Ok(model.scores(&model.try_forward_t(&x, false)?)) })
            .with_context(|| {
            format!(
                "the model does not fit {}; check that it was built for this data set",
                data.name
            )
        })?;
    let classes = data.num_classes() as i64;
    if out.size().last() != Some(&classes) {
        bail!(
            "the model outputs {:?} scores per image but {} has {classes} classes; build the \
             model with classes = {classes}",
            out.size().last().copied().unwrap_or(0),
            data.name
        );
    }
    Ok(())
}
