//! `cnn summary <model>`: the per-layer parameter table of a named model.

use anyhow::{Context, Result};
use support::models::{self, MODEL_NAMES};
use tch::nn;

/// `1256080` -> `1,256,080`, as the course's tables write counts.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Builds `name` on the CPU for `channels` (default: the preset's) and `classes`, and
/// prints one line per layer with its output shape and parameter count, then the total.
pub fn run(name: &str, channels: Option<i64>, classes: i64) -> Result<()> {
    let channels = match channels {
        Some(c) => c,
        None => models::default_in_channels(name).with_context(|| {
            format!(
                "unknown model {name:?}; the models are: {}",
                MODEL_NAMES.join(", ")
            )
        })?,
    };
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = models::build(name, &vs.root(), channels, classes)?;
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
                grouped(counts.get(i).unwrap_or_default()),
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
