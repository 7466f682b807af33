//! Sizing an FMP net backwards from its head.
//!
//! The net is `(F n C2 - FMP alpha)_L - C2 - C1 - output`. Its last C2 needs a 2x2 grid, so
//! the sizes are found from the output backwards: start at 2, and for each block undo the
//! pooling (`N_in = int(N_out * alpha + 0.5)`, Graham's rounding) and then undo the 2x2
//! valid convolution (`+ 1`). The input image is zero-padded up to the size this yields.

use anyhow::{Result, bail, ensure};
use polars::prelude::{DataFrame, NamedFrom, Series};

/// The largest input side `fmp_sizes` accepts; anything bigger is not an image size.
const MAX_SIDE: i64 = 1 << 20;

/// The sizes of an FMP net: `input` is the side the images are padded to; `pooled[i]`
/// is block `i`'s side after its pooling, in forward order (the last one is always 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FmpSizes {
    pub input: i64,
    pub pooled: Vec<i64>,
}

/// One block of the forward pass: a 2x2 valid convolution `conv_in -> conv_out`, then
/// fractional max-pooling `conv_out -> pool_out` with the realised `ratio`.
#[derive(Debug, Clone, PartialEq)]
pub struct FmpStep {
    /// Block number, counting from 1.
    pub block: usize,
    pub conv_in: i64,
    pub conv_out: i64,
    pub pool_out: i64,
    /// `conv_out / pool_out`: the pooling ratio actually used, close to alpha.
    pub ratio: f64,
}

impl FmpSizes {
    /// The blocks in forward order, so the rounding of each step can be read off.
    pub fn steps(&self) -> Vec<FmpStep> {
        let mut conv_in = self.input;
        self.pooled
            .iter()
            .enumerate()
            .map(|(i, &pool_out)| {
                let step = FmpStep {
                    block: i + 1,
                    conv_in,
                    conv_out: conv_in - 1,
                    pool_out,
                    ratio: (conv_in - 1) as f64 / pool_out as f64,
                };
                conv_in = pool_out;
                step
            })
            .collect()
    }

    /// Every side from the input to the 1x1 after the head's C2, e.g. for MNIST
    /// `36-35-25-24-17-16-11-10-7-6-4-3-2-1`.
    pub fn chain(&self) -> Vec<i64> {
        let mut sides = vec![self.input];
        for step in self.steps() {
            sides.extend([step.conv_out, step.pool_out]);
        }
        sides.push(1);
        sides
    }
}

/// The input side and per-block pooled sides of an FMP net with `layers` blocks and
/// pooling ratio `alpha`, computed backwards from the 2x2 that the head's C2 needs:
/// `n_L = 2`, `N_in = int(n * alpha + 0.5)`, `n_{l-1} = N_in + 1`.
///
/// `(sqrt 2, 6)` gives 36 -> [25, 17, 11, 7, 4, 2] (MNIST) and `(2^(1/3), 12)` gives 94
/// (CIFAR). Errors: `alpha` outside (1, 2], zero layers, an alpha so close to 1 that a
/// block's rounding would not shrink the grid, or an input side too large to be an image.
pub fn fmp_sizes(alpha: f64, layers: usize) -> Result<FmpSizes> {
    ensure!(
        alpha.is_finite() && alpha > 1.0 && alpha <= 2.0,
        "FMP pooling ratio alpha = {alpha} is outside (1, 2]: fractional max-pooling shrinks \
         by less than 2x2 max-pooling; use e.g. sqrt(2) = 1.414 or 2^(1/3) = 1.26"
    );
    ensure!(
        layers > 0,
        "an FMP net needs at least one (C2 - FMP) block; use layers >= 1 (MNIST: 6, CIFAR: 12)"
    );
    let mut pooled = Vec::with_capacity(layers);
    let mut side: i64 = 2;
    for block in (1..=layers).rev() {
        // Graham's rounding, `int(N_out * alpha + 0.5)`; the cast truncates like `int`.
        let pool_in = (side as f64 * alpha + 0.5) as i64;
        if pool_in <= side {
            bail!(
                "with alpha = {alpha}, block {block} would pool {pool_in} -> {side}, which \
                 does not shrink the grid; use alpha >= {:.4}",
                1.0 + 0.5 / side as f64
            );
        }
        pooled.push(side);
        side = pool_in + 1;
        if side > MAX_SIDE {
            bail!(
                "{layers} FMP blocks with alpha = {alpha} need an input side above {MAX_SIDE}; \
                 use fewer layers or a smaller alpha"
            );
        }
    }
    pooled.reverse();
    Ok(FmpSizes {
        input: side,
        pooled,
    })
}

/// [`fmp_sizes`] as a table for the notebook, one row per block in forward order, with
/// columns `block`, `conv_in`, `conv_out`, `pool_out`, `ratio`.
pub fn fmp_size_table(alpha: f64, layers: usize) -> Result<DataFrame> {
    let steps = fmp_sizes(alpha, layers)?.steps();
    let column = |name: &str, f: fn(&FmpStep) -> i64| {
        Series::new(name.into(), steps.iter().map(f).collect::<Vec<_>>()).into()
    };
    let table = DataFrame::new(
        steps.len(),
        vec![
            column("block", |s| s.block as i64),
            column("conv_in", |s| s.conv_in),
            column("conv_out", |s| s.conv_out),
            column("pool_out", |s| s.pool_out),
            Series::new(
                "ratio".into(),
                steps.iter().map(|s| s.ratio).collect::<Vec<_>>(),
            )
            .into(),
        ],
    )?;
    Ok(table)
}

/// Parses a pooling ratio as a number (`1.414`), `sqrt2` / `sqrt(2)`, or a power such as
/// `2^(1/3)` or `2^0.5`, so the command line can take the paper's notation.
pub fn parse_alpha(text: &str) -> Result<f64> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let number = |s: &str| -> Result<f64> {
        let s = s.trim_start_matches('(').trim_end_matches(')');
        match s.split_once('/') {
            Some((p, q)) => Ok(p.parse::<f64>()? / q.parse::<f64>()?),
            None => Ok(s.parse::<f64>()?),
        }
    };
    let value = if let Some(arg) = t.strip_prefix("sqrt") {
        number(arg).map(f64::sqrt)
    } else if let Some((base, exp)) = t.split_once('^') {
        number(base).and_then(|b| Ok(b.powf(number(exp)?)))
    } else {
        number(&t)
    };
    value.map_err(|_| {
        anyhow::anyhow!(
            "cannot read alpha {text:?}; write a number (1.414), sqrt2, or a power like 2^(1/3)"
        )
    })
}
