//! The fractional max-pooling layer.
//!
//! Graham's regions are products of a row interval and a column interval, each at most 3
//! wide, so every region is at most 3x3. The layer finds each region's argmax without
//! autograd (in Rust on a CPU, with tensor ops elsewhere), then gathers the values at the
//! argmax with autograd, like libtorch's own max-pooling keeps its indices: the gradient
//! reaches only the max positions, through a single scatter-add. One `u` (or shuffle) per
//! axis per call is shared by all images and channels, as in Graham's code, unless the
//! layer draws per image ([`Fmp::per_image`]).

use super::cpu::{Grid, Want};
use super::regions::{Interval, Regions, check_sizes, max_width};
use super::{channels_last, cpu, native};
use crate::layout::is_channels_last;
use anyhow::{Result, bail, ensure};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor};

/// How the layer chooses its regions on each call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Draw {
    /// New regions on every call, in training and evaluation (the paper's choice); drawn
    /// from libtorch's generator, so `support::seed` makes a run repeatable.
    Fresh,
    /// The same regions on every call, drawn from this seed.
    Seed(u64),
    /// Pseudorandom regions (or libtorch's op) with these offsets `u` in [0, 1).
    Fixed { rows: f64, cols: f64 },
}

/// Fractional max-pooling of a `[N, C, H, W]` (or `[C, H, W]`) tensor to `out x out`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fmp {
    out: i64,
    regions: Regions,
    draw: Draw,
    /// Fresh regions for each image of a batch rather than one draw for the batch.
    per_image: bool,
}

impl Fmp {
    /// Pools to `out x out` with the given regions, drawing new ones on every call.
    pub fn new(out: i64, regions: Regions) -> Fmp {
        Fmp {
            out,
            regions,
            draw: Draw::Fresh,
            per_image: false,
        }
    }

    /// The same layer drawing fresh regions for every image of a batch, as PyTorch's
    /// `FractionalMaxPool2d` does (it also draws per channel). Graham's code draws once per
    /// batch, so the images of a batch share their distortion. One kernel call pools
    /// the whole batch either way, each image with its own regions. Seeded or fixed
    /// regions are the same for every image anyway.
    pub fn per_image(self) -> Fmp {
        Fmp {
            per_image: true,
            ..self
        }
    }

    /// The same layer with the same regions on every call, drawn from `seed`.
    pub fn with_seed(self, seed: u64) -> Fmp {
        Fmp {
            draw: Draw::Seed(seed),
            ..self
        }
    }

    /// The same layer with fixed offsets `u` for rows and columns. Random variants are a
    /// shuffle, not a function of `u`, so they are an error; use [`Fmp::with_seed`].
    pub fn with_u(self, rows: f64, cols: f64) -> Result<Fmp> {
        ensure!(
            !self.regions.is_random(),
            "{} regions are a random shuffle, not a function of u; use with_seed to fix them",
            self.regions
        );
        for u in [rows, cols] {
            ensure!(
                (0.0..1.0).contains(&u),
                "the pseudorandom offset u = {u} must lie in [0, 1)"
            );
        }
        Ok(Fmp {
            draw: Draw::Fixed { rows, cols },
            ..self
        })
    }

    /// The output side.
    pub fn out(&self) -> i64 {
        self.out
    }

    /// The region variant.
    pub fn regions(&self) -> Regions {
        self.regions
    }

    /// True when two calls on the same input can differ, so that averaging repeated test
    /// passes is worth it.
    pub fn is_random(&self) -> bool {
        self.draw == Draw::Fresh
    }

    /// Pools `x`, first checking its shape and sizes, so an impossible pooling is a clear
    /// error before any compute.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let size = x.size();
        ensure!(
            size.len() == 3 || size.len() == 4,
            "FMP expects a [N, C, H, W] or [C, H, W] tensor, got shape {size:?}"
        );
        ensure!(
            x.is_floating_point(),
            "FMP needs a floating-point tensor, got {:?}; convert with to_kind(Kind::Float)",
            x.kind()
        );
        let (h, w) = (size[size.len() - 2], size[size.len() - 1]);
        for (axis, n_in) in [("rows", h), ("columns", w)] {
            check_sizes(n_in, self.out).map_err(|e| {
                e.context(format!(
                    "FMP to {0}x{0} cannot pool a {h}x{w} input along its {axis}",
                    self.out
                ))
            })?;
        }
        if self.regions == Regions::Native {
            return self.native(x);
        }
        // Per image: one draw for each, in image order, all pooled by one kernel call.
        let draws = if self.per_image && self.draw == Draw::Fresh && size.len() == 4 {
            size[0].max(1)
        } else {
            1
        };
        let grids = (0..draws)
            .map(|_| self.intervals(h, w))
            .collect::<Result<Vec<Grid>>>()?;
        Ok(pool_regions(x, &grids))
    }

    /// The row and column regions for an `h x w` input: the ones every call uses when
    /// seeded or fixed, a fresh draw otherwise. libtorch's op draws its own per image and
    /// channel, so for it only fixed offsets have regions to show.
    pub fn intervals(&self, h: i64, w: i64) -> Result<(Vec<Interval>, Vec<Interval>)> {
        let both = |rng: &mut StdRng| -> Result<(Vec<Interval>, Vec<Interval>)> {
            let rows = self.regions.draw_intervals(h, self.out, rng)?;
            Ok((rows, self.regions.draw_intervals(w, self.out, rng)?))
        };
        match (self.draw, self.regions) {
            (Draw::Fixed { rows, cols }, r) => Ok((
                r.intervals_for_u(h, self.out, rows)?,
                r.intervals_for_u(w, self.out, cols)?,
            )),
            (_, Regions::Native) => bail!(
                "libtorch's fractional_max_pool2d draws its windows per image and channel; \
                 fix them with with_u to see them"
            ),
            (Draw::Seed(seed), _) => both(&mut StdRng::seed_from_u64(seed)),
            (Draw::Fresh, _) => both(&mut StdRng::seed_from_u64(torch_seed())),
        }
    }

    /// libtorch's op; its samples are `[N, C, 2]`, index 0 for columns and 1 for rows. On
    /// an `f32` CPU batch the same windows are pooled by [`native::window_max`], which
    /// gives the op's very output for the same samples, several times faster (measured in
    /// docs/speed-history.md, "Measurements behind the code's comments").
    fn native(&self, x: &Tensor) -> Result<Tensor> {
        let size = x.size();
        let (n, c) = if size.len() == 4 {
            (size[0], size[1])
        } else {
            (1, size[0])
        };
        let opts = (x.kind(), x.device());
        let samples = match self.draw {
            Draw::Fresh => Tensor::rand([n, c, 2], opts),
            Draw::Seed(seed) => {
                let mut rng = StdRng::seed_from_u64(seed);
                let u: Vec<f64> = (0..n * c * 2).map(|_| rng.random::<f64>()).collect();
                Tensor::from_slice(&u)
                    .view([n, c, 2])
                    .to_kind(x.kind())
                    .to_device(x.device())
            }
            Draw::Fixed { rows, cols } => Tensor::from_slice(&[cols, rows])
                .to_kind(x.kind())
                .to_device(x.device())
                .expand([n, c, 2], false)
                .contiguous(),
        };
        // Training gathers the values at the maxima's positions, so that autograd has them.
        let want = Want::for_input(x);
        if let Some(pooled) = native::window_max(x, &samples, self.out, want) {
            return Ok(from_kernel(x, pooled, want));
        }
        let (values, _indices) =
            x.f_fractional_max_pool2d([2, 2], [self.out, self.out], &samples)?;
        Ok(values)
    }
}

/// `image` pooled to each side in `sides` in turn, with fresh regions every time, for
/// each of Graham's variants ([`Regions::GRAHAM`]): the image and every step after it,
/// by variant. The rows of `plot::repeated_fmp`, which shows how pseudorandom regions
/// keep a shape and random ones distort it.
pub fn repeated_pooling(image: &Tensor, sides: &[i64]) -> Result<Vec<(String, Vec<Tensor>)>> {
    Regions::GRAHAM
        .iter()
        .map(|&regions| {
            let mut steps = vec![image.shallow_clone()];
            for &side in sides {
                let next = Fmp::new(side, regions).try_forward(&steps[steps.len() - 1])?;
                steps.push(next);
            }
            Ok((regions.to_string(), steps))
        })
        .collect()
}

impl ModuleT for Fmp {
    /// Pools with new regions in training and in evaluation alike (unless seeded or fixed).
    ///
    /// # Panics
    /// On a shape [`Fmp::try_forward`] rejects, with its message, as libtorch ops do.
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        match self.try_forward(xs) {
            Ok(y) => y,
            Err(e) => panic!("{e:#}"),
        }
    }
}

/// A seed from libtorch's CPU generator, so `support::seed` governs fresh draws (the
/// pooling regions here, the dropout masks in `models::leaky_dropout`).
pub(crate) fn torch_seed() -> u64 {
    Tensor::randint(i64::MAX, [1], (Kind::Int64, Device::Cpu)).int64_value(&[0]) as u64
}

/// Max over each region `rows[i] x cols[j]` of the last two dimensions of `x`.
///
/// The maxima and their flat positions come without autograd: from
/// [`channels_last::region_max`] or [`cpu::region_max`] on a CPU (by the tensor's
/// layout), otherwise from [`candidate_max`]. When `x` needs no gradient (evaluation)
/// the maxima are the answer; otherwise the values are gathered with autograd at the
/// argmax positions, like libtorch's own max-pooling keeps its indices, so the backward
/// pass is a single scatter-add onto them. The channels-last kernel computes only the one
/// of the two that is used ([`Want`]).
fn pool_regions(x: &Tensor, grids: &[Grid]) -> Tensor {
    let size = x.size();
    let (rows, cols) = (grids[0].0.len() as i64, grids[0].1.len() as i64);
    let want = Want::for_input(x);
    if let Some(pooled) = channels_last::region_max(x, grids, want) {
        // `[N, cells, C]`, shaped back to a channels-last `[N, C, rows, cols]` view.
        let (n, c) = (size[0], size[1]);
        let pooled = pooled.view([n, rows, cols, c]).permute([0, 3, 1, 2]);
        return from_kernel(x, pooled, want);
    }
    let mut out_size = size[..size.len() - 2].to_vec();
    out_size.extend([rows, cols]);
    let (max, argmax) = cpu::region_max(x, grids).unwrap_or_else(|| {
        tch::no_grad(|| match grids {
            [(rows, cols)] => candidate_max(x, rows, cols),
            // One grid per image: image by image, stacked in order.
            _ => {
                let parts: Vec<(Tensor, Tensor)> = grids
                    .iter()
                    .enumerate()
                    .map(|(i, (rows, cols))| candidate_max(&x.narrow(0, i as i64, 1), rows, cols))
                    .collect();
                let (max, at): (Vec<Tensor>, Vec<Tensor>) = parts.into_iter().unzip();
                (Tensor::cat(&max, 0), Tensor::cat(&at, 0))
            }
        })
    });
    if !x.requires_grad() {
        // No backward will run (evaluation, `no_grad`): the maxima are the answer.
        return max.view(out_size.as_slice());
    }
    let flat = x.reshape([-1, size[size.len() - 2] * size[size.len() - 1]]);
    flat.gather(1, &argmax, false).view(out_size.as_slice())
}

/// The pooled output from what a kernel computed (`want`): the maxima as they are, or the
/// values of `x` gathered with autograd at the positions.
fn from_kernel(x: &Tensor, pooled: Tensor, want: Want) -> Tensor {
    match want {
        Want::Positions => gather_in_memory_order(x, &pooled),
        Want::Maxima => pooled,
    }
}

/// The values of `x` (with autograd) at `at`, positions in each image's memory, for a
/// 4-D `x` and `at` of the output's shape, both plane by plane or both channels-last.
///
/// Each image's memory is read as one row and the output is gathered in its own memory
/// order: a gather along one contiguous dimension. libtorch's `gather` and its backward,
/// `scatter_add`, run several times slower along a dimension whose elements lie `C` apart.
fn gather_in_memory_order(x: &Tensor, at: &Tensor) -> Tensor {
    let memory_row = |t: &Tensor| {
        let t = if is_channels_last(t) {
            t.permute([0, 2, 3, 1])
        } else {
            t.shallow_clone()
        };
        t.reshape([t.size()[0], -1])
    };
    let values = memory_row(x).gather(1, &memory_row(at), false);
    if is_channels_last(at) {
        let s = at.size();
        values.view([s[0], s[2], s[3], s[1]]).permute([0, 3, 1, 2])
    } else {
        values.view(at.size().as_slice())
    }
}

/// [`cpu::region_max`] with tensor ops, for any device and kind.
///
/// Each region has at most `k x k` positions (`k <= 3`); its candidate flat indices
/// `min(first + a, last) * W + min(first + b, last)` (repeats are harmless) are built on
/// the host once per call and shared by all images and channels. The candidates are read
/// with one `index_select` (a plain row copy, about twice as fast as `gather` with an
/// expanded index) and reduced with `max_dim`.
fn candidate_max(x: &Tensor, rows: &[Interval], cols: &[Interval]) -> (Tensor, Tensor) {
    let size = x.size();
    let w = size[size.len() - 1];
    let k = max_width(rows, cols);
    let at = |iv: &Interval, a: i64| (iv.first + a).min(iv.last);
    let mut cand = Vec::with_capacity(rows.len() * cols.len() * (k * k) as usize);
    for r in rows {
        for c in cols {
            for a in 0..k {
                cand.extend((0..k).map(|b| at(r, a) * w + at(c, b)));
            }
        }
    }
    let cells = (rows.len() * cols.len()) as i64;
    let cand = Tensor::from_slice(&cand).to_device(x.device());
    let flat = x.reshape([-1, size[size.len() - 2] * w]);
    let (max, which) = flat
        .index_select(1, &cand)
        .view([-1, cells, k * k])
        .max_dim(2, false);
    let offsets = Tensor::arange(cells, (Kind::Int64, x.device())) * (k * k);
    (max, cand.take(&(which + offsets)))
}
