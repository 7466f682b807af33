//! Looking inside a model: the per-layer parameter table and the debug forward pass.
//!
//! Both walk the model's [`Layer`] list, check each layer's expected input before
//! calling libtorch, and name the layer when something does not fit. The table is the
//! course's fully connected parameter table (`3,145,728 + 1,024 + ...`) for any model.

use super::Model;
use super::layers::Layer;
use anyhow::{Result, ensure};
use polars::prelude::{DataFrame, NamedFrom, Series};
use tch::{Device, Kind, Tensor};

/// Runs `model` layer by layer in evaluation mode without gradients, calling `visit` with
/// each layer, its input and its output. Stops at the first layer whose input does not
/// fit, with an error naming that layer, before libtorch sees it.
pub(crate) fn trace<M: Model + ?Sized>(
    model: &M,
    input: &Tensor,
    mut visit: impl FnMut(&Layer<'_>, &Tensor, &Tensor),
) -> Result<Tensor> {
    let _no_grad = tch::no_grad_guard();
    let mut x = input.shallow_clone();
    for layer in model.layers() {
        layer.expects.check(&layer.name, &x.size())?;
        let y = layer.forward(&x, false);
        visit(&layer, &x, &y);
        x = y;
    }
    Ok(x)
}

/// The device of the model's first parameter (CPU for a model without any).
pub(crate) fn model_device<M: Model + ?Sized>(model: &M) -> Device {
    model
        .layers()
        .iter()
        .flat_map(|l| l.parameters.first().map(|t| t.device()))
        .next()
        .unwrap_or(Device::Cpu)
}

/// `[32, 35, 35]`: a shape without its batch dimension.
fn shape_text(shape: &[i64]) -> String {
    let dims: Vec<String> = shape.iter().skip(1).map(i64::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// The parameter table of `model` for one input of `input_shape = [C, H, W]`: one row per
/// layer with columns `layer`, `output_shape` (without the batch, e.g. `[32, 35, 35]`) and
/// `parameters` (trainable values), then a `total` row.
pub fn summary<M: Model + ?Sized>(model: &M, input_shape: &[i64]) -> Result<DataFrame> {
    ensure!(
        input_shape.len() == 3 && input_shape.iter().all(|&d| d > 0),
        "summary needs the input shape of one image, [channels, height, width], got \
         {input_shape:?}; e.g. &[1, 28, 28] for MNIST"
    );
    let mut shape = vec![1];
    shape.extend_from_slice(input_shape);
    let input = Tensor::zeros(&shape, (Kind::Float, model_device(model)));
    let (mut names, mut shapes, mut counts) = (vec![], vec![], vec![]);
    let _output = trace(model, &input, |layer, _, y| {
        names.push(layer.name.clone());
        shapes.push(shape_text(&y.size()));
        counts.push(layer.parameter_count());
    })?;
    let total: i64 = counts.iter().sum();
    names.push("total".into());
    shapes.push(String::new());
    counts.push(total);
    Ok(DataFrame::new_infer_height(vec![
        Series::new("layer".into(), names).into(),
        Series::new("output_shape".into(), shapes).into(),
        Series::new("parameters".into(), counts).into(),
    ])?)
}

/// The forward pass in evaluation mode with every layer's input and output shape printed,
/// as the course's debug pass does. A shape that does not fit stops it with an error
/// naming the layer and what it expected, instead of a libtorch backtrace.
pub fn debug_forward<M: Model + ?Sized>(model: &M, input: &Tensor) -> Result<Tensor> {
    println!("input {:?}", input.size());
    trace(model, input, |layer, x, y| {
        println!("{}: {:?} -> {:?}", layer.name, x.size(), y.size());
    })
}
