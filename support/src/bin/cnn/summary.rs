//! `cnn summary <model>`: the per-layer parameter table of a named model.

use anyhow::Result;
use support::models::{self, ModelSpec};
use support::show::thousands;
use tch::nn;

/// Builds `name` on the CPU for `channels` (default: the preset's) and `classes`, and
/// prints one line per layer with its output shape and parameter count, then the total.
pub fn run(name: &str, channels: Option<i64>, classes: i64) -> Result<()> {
    let preset = ModelSpec::preset(name)?;
    let channels = channels.unwrap_or(preset.io().0);
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = preset.with_io(channels, classes).build(&vs.root())?;
    let (c, side) = model.input_shape();
    let table = models::summary(model.as_ref(), &[c, side, side])?;
    let layers = table.column("layer")?.str()?;
    let shapes = table.column("output_shape")?.str()?;
    let counts = table.column("parameters")?.i64()?;
    let rows: Vec<(String, String, String)> = (0..table.height())
        .map(|i| {
            (
                layers.get(i).unwrap_or_default().to_string(),
                shapes.get(i).unwrap_or_default().to_string(),
                thousands(counts.get(i).unwrap_or_default()),
            )
        })
        .collect();
    let width = |f: fn(&(String, String, String)) -> usize, title: &str| {
        rows.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let (w1, w2, w3) = (
        width(|r| r.0.len(), "layer"),
        width(|r| r.1.len(), "output shape"),
        width(|r| r.2.len(), "parameters"),
    );
    println!("{name}: input [{c}, {side}, {side}]");
    println!(
        "{:<w1$}  {:<w2$}  {:>w3$}",
        "layer", "output shape", "parameters"
    );
    for (layer, shape, count) in &rows {
        println!("{layer:<w1$}  {shape:<w2$}  {count:>w3$}");
    }
    Ok(())
}
