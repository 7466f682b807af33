//! Graham's pooling regions along one axis (rows and columns get independent ones).
//!
//! A boundary sequence `0 = a_0 < a_1 < ... < a_N` has steps of 1 or 2. Indices are
//! 0-based, so the paper's `a_0 = 1, ..., a_N = N_in` becomes:
//! - **disjoint** regions `[a_{i-1}, a_i - 1]` with `a_N = N_in`: they tile the input,
//!   widths 1 or 2;
//! - **overlapping** regions `[a_{i-1}, a_i]` with `a_N = N_in - 1`: they cover the input
//!   and neighbours share exactly their edge, widths 2 or 3.
//!
//! Either way every input position lies in some region. With `N_in` and `N_out` the two
//! sides, all four variants (and libtorch's op) are valid exactly when
//! `N_out < N_in <= 2 N_out`: a fractional ratio in (1, 2].

use anyhow::{Result, bail, ensure};
use rand::Rng;
use rand::seq::SliceRandom;
use std::fmt;
use std::str::FromStr;

/// Which pooling regions a fractional max-pooling layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Regions {
    /// `a_i = ceil(alpha (i + u)) - ceil(alpha u)` with overlapping regions `[a_{i-1}, a_i]`:
    /// a faithful downscale, Graham's best single-test MNIST result.
    PseudorandomOverlapping,
    /// The pseudorandom sequence with disjoint regions `[a_{i-1}, a_i - 1]` that tile the input.
    PseudorandomDisjoint,
    /// A random shuffle of the steps with overlapping regions: a random elastic distortion.
    RandomOverlapping,
    /// A random shuffle of the steps with disjoint regions: the strongest regulariser.
    RandomDisjoint,
    /// libtorch's `fractional_max_pool2d`: fixed 2x2 windows at pseudorandom starts, one `u`
    /// per image and channel; the peer the other four are compared with.
    Native,
}

/// One pooling region along an axis: input positions `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub first: i64,
    pub last: i64,
}

impl Interval {
    /// How many input positions the region covers.
    pub fn width(&self) -> i64 {
        self.last - self.first + 1
    }
}

/// The widest of these regions (1 when there are none): the side of the largest
/// `rows[i] x cols[j]` region, which the pooling kernels read as a square.
pub(super) fn max_width(rows: &[Interval], cols: &[Interval]) -> i64 {
    rows.iter()
        .chain(cols)
        .map(Interval::width)
        .max()
        .unwrap_or(1)
}

impl Regions {
    /// All five, in the order tables and plots list them.
    pub const ALL: [Regions; 5] = [
        Regions::PseudorandomOverlapping,
        Regions::PseudorandomDisjoint,
        Regions::RandomOverlapping,
        Regions::RandomDisjoint,
        Regions::Native,
    ];

    /// Graham's four variants, the ones with regions to draw (`Native` is libtorch's op,
    /// which draws its own per image and channel).
    pub const GRAHAM: [Regions; 4] = [
        Regions::PseudorandomOverlapping,
        Regions::PseudorandomDisjoint,
        Regions::RandomOverlapping,
        Regions::RandomDisjoint,
    ];

    /// True for the shuffled-step variants, whose regions are not a function of one `u`.
    pub fn is_random(self) -> bool {
        matches!(self, Regions::RandomOverlapping | Regions::RandomDisjoint)
    }

    /// True when neighbouring regions may share an edge (libtorch's 2x2 windows do too).
    pub fn is_overlapping(self) -> bool {
        !matches!(
            self,
            Regions::PseudorandomDisjoint | Regions::RandomDisjoint
        )
    }

    /// Where the boundary sequence ends, `a_N`: `N_in` for disjoint regions, `N_in - 1` for
    /// overlapping ones. libtorch's op has window starts instead, so it is an error there.
    pub fn boundary_end(self, n_in: i64) -> Result<i64> {
        match self {
            Regions::Native => bail!(
                "libtorch's fractional_max_pool2d has no boundary sequence, only 2x2 window \
                 starts; use native_starts"
            ),
            r if r.is_overlapping() => Ok(n_in - 1),
            _ => Ok(n_in),
        }
    }

    /// The regions along one axis for a given `u` in [0, 1). Random variants are a shuffle,
    /// not a function of `u`, so they are an error here; use [`Regions::draw_intervals`].
    pub fn intervals_for_u(self, n_in: i64, n_out: i64, u: f64) -> Result<Vec<Interval>> {
        check_sizes(n_in, n_out)?;
        match self {
            Regions::Native => Ok(native_intervals(&native_starts(n_in, n_out, u)?)),
            r if r.is_random() => bail!(
                "{r} regions are a random shuffle of steps, not a function of u; draw them \
                 with a seeded random generator instead"
            ),
            r => {
                let a = pseudorandom_boundaries(r.boundary_end(n_in)?, n_out, u)?;
                Ok(r.intervals(&a))
            }
        }
    }

    /// Draws the regions along one axis: a fresh `u` for pseudorandom variants and
    /// libtorch's op, a fresh shuffle for random ones.
    pub fn draw_intervals<R: Rng + ?Sized>(
        self,
        n_in: i64,
        n_out: i64,
        rng: &mut R,
    ) -> Result<Vec<Interval>> {
        if self.is_random() {
            check_sizes(n_in, n_out)?;
            let a = random_boundaries(self.boundary_end(n_in)?, n_out, rng)?;
            Ok(self.intervals(&a))
        } else {
            self.intervals_for_u(n_in, n_out, rng.random::<f64>())
        }
    }

    fn intervals(self, a: &[i64]) -> Vec<Interval> {
        if self.is_overlapping() {
            overlapping_intervals(a)
        } else {
            disjoint_intervals(a)
        }
    }
}

impl fmt::Display for Regions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Regions::PseudorandomOverlapping => "pseudorandom-overlapping",
            Regions::PseudorandomDisjoint => "pseudorandom-disjoint",
            Regions::RandomOverlapping => "random-overlapping",
            Regions::RandomDisjoint => "random-disjoint",
            Regions::Native => "native",
        })
    }
}

impl FromStr for Regions {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        Regions::ALL
            .into_iter()
            .find(|r| r.to_string() == s)
            .ok_or_else(|| {
                let names: Vec<String> = Regions::ALL.iter().map(|r| r.to_string()).collect();
                anyhow::anyhow!(
                    "unknown FMP regions {s:?}; use one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// Checks that fractional max-pooling can take `n_in` to `n_out` along an axis:
/// `1 <= n_out < n_in <= 2 n_out`, so that `N_out` steps of 1 or 2 fit.
pub(crate) fn check_sizes(n_in: i64, n_out: i64) -> Result<()> {
    ensure!(n_out >= 1, "FMP output side {n_out} must be at least 1");
    ensure!(
        n_in > n_out,
        "FMP cannot pool {n_in} -> {n_out}: the output must be smaller than the input; \
         pad the input or choose an output below {n_in}"
    );
    ensure!(
        n_in <= 2 * n_out,
        "FMP cannot pool {n_in} -> {n_out}: the ratio {:.3} is above 2, and regions have \
         at most 2 steps' width; choose an output of at least {}",
        n_in as f64 / n_out as f64,
        (n_in + 1) / 2
    );
    Ok(())
}

fn check_span(end: i64, n_out: i64) -> Result<()> {
    ensure!(
        n_out >= 1 && n_out <= end && end <= 2 * n_out,
        "a boundary sequence of {n_out} steps of 1 or 2 cannot end at {end}; it needs \
         n_out <= end <= 2 n_out"
    );
    Ok(())
}

fn check_u(u: f64) -> Result<()> {
    ensure!(
        (0.0..1.0).contains(&u),
        "the pseudorandom offset u = {u} must lie in [0, 1)"
    );
    Ok(())
}

/// Graham's pseudorandom boundaries `a_i = ceil(alpha (i + u)) - ceil(alpha u)` with
/// `alpha = end / n_out`, so `a_0 = 0` and `a_N = end`; the steps are `floor(alpha)` or
/// `ceil(alpha)`, i.e. 1 or 2. Computed in integers apart from `end * u`, so the ends are
/// exact.
pub(crate) fn pseudorandom_boundaries(end: i64, n_out: i64, u: f64) -> Result<Vec<i64>> {
    check_span(end, n_out)?;
    check_u(u)?;
    // ceil((end * i + x) / n_out) with x = end * u split into its integer and fractional
    // parts: for integer m and 0 < f < 1, ceil((m + f) / n) = floor(m / n) + 1.
    let x = end as f64 * u;
    let (xi, exact) = (x.floor() as i64, x.fract() == 0.0);
    let ceil_at = |i: i64| {
        let m = end * i + xi;
        if exact {
            (m + n_out - 1).div_euclid(n_out)
        } else {
            m.div_euclid(n_out) + 1
        }
    };
    let a0 = ceil_at(0);
    Ok((0..=n_out).map(|i| ceil_at(i) - a0).collect())
}

/// Random boundaries: a shuffle of `end - n_out` steps of 2 and `2 n_out - end` steps of 1,
/// summed from `a_0 = 0`.
pub(crate) fn random_boundaries<R: Rng + ?Sized>(
    end: i64,
    n_out: i64,
    rng: &mut R,
) -> Result<Vec<i64>> {
    check_span(end, n_out)?;
    let twos = (end - n_out) as usize;
    let mut steps = vec![1_i64; n_out as usize];
    steps[..twos].fill(2);
    steps.shuffle(rng);
    let mut a = Vec::with_capacity(steps.len() + 1);
    a.push(0);
    for step in steps {
        a.push(a[a.len() - 1] + step);
    }
    Ok(a)
}

/// libtorch's window starts: `alpha = (N_in - 2) / (N_out - 1)`,
/// `s_i = floor((i + u) alpha) - floor(u alpha)` for `i < N_out - 1`, and the last start
/// is `N_in - 2`. Computed in f64, so it matches libtorch exactly for `f64` tensors.
pub(crate) fn native_starts(n_in: i64, n_out: i64, u: f64) -> Result<Vec<i64>> {
    check_sizes(n_in, n_out)?;
    check_u(u)?;
    let alpha = (n_in - 2) as f64 / (n_out - 1).max(1) as f64;
    let offset = (u * alpha) as i64;
    Ok((0..n_out)
        .map(|i| {
            if i == n_out - 1 {
                n_in - 2
            } else {
                ((i as f64 + u) * alpha) as i64 - offset
            }
        })
        .collect())
}

/// Disjoint regions `[a_{i-1}, a_i - 1]`: a tiling of `0..a_N`.
pub(crate) fn disjoint_intervals(a: &[i64]) -> Vec<Interval> {
    a.windows(2)
        .map(|w| Interval {
            first: w[0],
            last: w[1] - 1,
        })
        .collect()
}

/// Overlapping regions `[a_{i-1}, a_i]`: neighbours share their edge, covering `0..=a_N`.
pub(crate) fn overlapping_intervals(a: &[i64]) -> Vec<Interval> {
    a.windows(2)
        .map(|w| Interval {
            first: w[0],
            last: w[1],
        })
        .collect()
}

/// libtorch's 2x2 windows `[s_i, s_i + 1]`.
pub(crate) fn native_intervals(starts: &[i64]) -> Vec<Interval> {
    starts
        .iter()
        .map(|&s| Interval {
            first: s,
            last: s + 1,
        })
        .collect()
}
