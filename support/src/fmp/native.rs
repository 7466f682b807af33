//! libtorch's `fractional_max_pool2d` (`Regions::Native`) on the CPU, computed in Rust.
//!
//! The windows are libtorch's to the bit: 2x2, one offset pair per image and channel from
//! the same `[N, C, 2]` samples, the starts in the same `f32` arithmetic, ties and NaNs
//! resolved the same way, so the output equals libtorch's op for the same samples. What
//! differs is the cost. libtorch's CPU loop compares each window's four values one after
//! another, plane by plane (a channels-last input is first copied to planes). Here every
//! pass reads memory in order and compiles to SIMD: the larger of each pair of neighbours
//! in one pass over the image, then, per output row, the larger of each window's two rows
//! of pairs at every column, then each output is read from that row. In a channels-last
//! image the channels' windows differ, but by at most a position, so these passes run over
//! all channels side by side. As for Graham's regions ([`super::layer`]), the backward
//! pass is a single scatter-add onto the argmax positions, which a `gather` with autograd
//! provides.

use super::cpu::{Want, mask, pick, split_units, wins};
use crate::layout::is_channels_last;
use tch::{Device, Kind, Tensor};

/// Each 2x2 window's maximum or its position in the image's memory (`want`), as a tensor
/// `[N, C, out, out]` stored in `x`'s layout (plane by plane or channels-last), for a
/// dense 4-D `f32` CPU tensor `x` and its samples `[N, C, 2]` (index 0 for columns, 1 for
/// rows, as libtorch's). `None` for anything else, which takes libtorch's op.
pub(super) fn window_max(x: &Tensor, samples: &Tensor, out: i64, want: Want) -> Option<Tensor> {
    let channels_last = is_channels_last(x);
    if x.device() != Device::Cpu
        || x.kind() != Kind::Float
        || x.dim() != 4
        || !(channels_last || x.is_contiguous())
    {
        return None;
    }
    let size: Vec<usize> = x.size().iter().map(|&s| s as usize).collect();
    let (n, c, h, w, o) = (size[0], size[1], size[2], size[3], out as usize);
    let shape = if channels_last {
        [n, o, o, c]
    } else {
        [n, c, o, o]
    }
    .map(|s| s as i64);
    let in_layout = |t: Tensor| {
        if channels_last {
            t.permute([0, 3, 1, 2])
        } else {
            t
        }
    };
    let values = in_layout(Tensor::empty(shape, (Kind::Float, Device::Cpu)));
    let index = in_layout(Tensor::empty(shape, (Kind::Int64, Device::Cpu)));
    let positions = want == Want::Positions;
    if n * c * o * o == 0 {
        return Some(if positions { index } else { values });
    }
    let u: Vec<f32> = Vec::try_from(samples.detach().to_kind(Kind::Float).reshape([-1])).ok()?;
    let x = x.detach();
    // SAFETY: `x` is a dense CPU `f32` tensor (plane by plane or channels-last), so its
    // `n c h w` values lie from its data pointer, image after image; `values` and `index`
    // are fresh dense tensors of `n c o o` elements each that nothing else aliases. The one
    // not wanted is never written, so its memory is never touched either.
    let (input, out_values, out_index) = unsafe {
        (
            std::slice::from_raw_parts(x.data_ptr() as *const f32, n * c * h * w),
            std::slice::from_raw_parts_mut(values.data_ptr() as *mut f32, n * c * o * o),
            std::slice::from_raw_parts_mut(index.data_ptr() as *mut i64, n * c * o * o),
        )
    };
    // The kernel pools a unit at a time: a channels-last image, whose positions hold `C`
    // lanes (its channels) side by side, or one plane of a plane-by-plane batch, whose
    // positions hold one. Either way a unit is `h` rows of `w` positions.
    let lanes = if channels_last { c } else { 1 };
    split_units(
        (input, out_values, out_index),
        (lanes * h * w, lanes * o * o),
        || Scratch {
            rows: Starts::new(o, lanes),
            cols: Starts::new(o, lanes),
            pair: vec![0.0; lanes * (h * w - 1)],
            right: vec![0; if positions { lanes * (h * w - 1) } else { 0 }],
            best: vec![0.0; lanes * (w - 1)],
            at: vec![0; if positions { lanes * (w - 1) } else { 0 }],
        },
        |scratch, unit, img, values, index| {
            // Each lane's samples: index 0 for columns, 1 for rows.
            let u = &u[unit * 2 * lanes..][..2 * lanes];
            scratch.rows.set(h, u.iter().skip(1).step_by(2));
            scratch.cols.set(w, u.iter().step_by(2));
            if positions {
                // Positions count from the image's memory, where a plane starts later.
                let offset = if channels_last { 0 } else { unit % c * h * w };
                scratch.pool(img, w, Out::Positions(index, offset));
            } else {
                scratch.pool(img, w, Out::Maxima(values));
            }
        },
    );
    Some(if positions { index } else { values })
}

/// Where [`Scratch::pool`] writes a unit's windows, in its memory order: their maxima, or
/// their maxima's positions in the image's memory, where the unit starts at `offset`.
enum Out<'a> {
    Maxima(&'a mut [f32]),
    Positions(&'a mut [i64], usize),
}

/// One thread's working memory for [`window_max`], sized for one unit.
///
/// A window's maximum is the larger of its two rows' pairs, the upper one on a tie, and
/// a pair's is the larger of its two values, the left one on a tie: the first largest
/// value in libtorch's reading order (row by row), with a NaN always winning, as in its
/// loop.
struct Scratch {
    rows: Starts,
    cols: Starts,
    /// Each position's pair maximum: of its value and its right-hand neighbour's.
    pair: Vec<f32>,
    /// 1 where the neighbour's value is the pair's maximum, 0 where its own is (training).
    right: Vec<u8>,
    /// For one output row, at every column and lane, the maximum of the lane's two window
    /// rows of pairs (evaluation)...
    best: Vec<f32>,
    /// ...or its position in the unit (training).
    at: Vec<usize>,
}

impl Scratch {
    /// Pools one unit, `img`, of rows `w` positions long, with the starts in `rows` and
    /// `cols`, into `out`.
    ///
    /// Separably, with the reads in memory order. First the larger of each pair of
    /// neighbours, in one pass over the unit. Then, for each output row, the larger of the
    /// two window rows of pairs, at every column and lane. The lanes' window rows start
    /// within a position or two of each other ([`Starts`]), so this is a contiguous pass
    /// over all lanes for the first start, then one for each later start that some lane
    /// has, where each lane keeps only its own start's values. Last, each output is read
    /// from that row at its window's column.
    fn pool(&mut self, img: &[f32], w: usize, mut out: Out) {
        let Scratch {
            rows,
            cols,
            pair,
            right,
            best,
            at,
        } = self;
        let lanes = rows.lanes;
        let row = w * lanes;
        let positions = matches!(out, Out::Positions(..));
        // The last position has no right-hand neighbour, and the pairs that a row's last
        // column starts are never read.
        let neighbours = img.iter().zip(&img[lanes..]);
        if positions {
            let outs = pair.iter_mut().zip(right.iter_mut());
            for ((v, right), (&left, &next)) in outs.zip(neighbours) {
                let take = wins(next, left);
                *v = pick(take, next, left);
                *right = (take & 1) as u8;
            }
        } else {
            for (v, (&left, &next)) in pair.iter_mut().zip(neighbours) {
                *v = pick(wins(next, left), next, left);
            }
        }
        let pass = if positions {
            larger_rows::<true>
        } else {
            larger_rows::<false>
        };
        let out_side = rows.first.len();
        for i in 0..out_side {
            let starts = &rows.start[i * lanes..][..lanes];
            // The first start's pass writes every lane (those that start later are
            // overwritten by the passes after it), a later one only those starting there.
            for d in 0..=rows.spread[i] {
                let top = (rows.first[i] + d) * row;
                let which = (d > 0).then_some((starts, rows.first[i] + d));
                pass((pair, right), (top, row, lanes), which, (best, at));
            }
            let cells = i * out_side * lanes..(i + 1) * out_side * lanes;
            match &mut out {
                Out::Maxima(values) => {
                    for (v, &k) in values[cells].iter_mut().zip(&cols.column) {
                        *v = best[k];
                    }
                }
                Out::Positions(index, offset) => {
                    for (v, &k) in index[cells].iter_mut().zip(&cols.column) {
                        *v = (at[k] + *offset) as i64;
                    }
                }
            }
        }
    }
}

/// One pass of [`Scratch::pool`] over a row of pairs from `top` and the row below it:
/// at each column and lane, the larger of the two pairs into `best` or, with
/// `POSITIONS`, where its value lies into `at`. Every lane, or with `only = Some((starts,
/// start))` only the lanes whose window starts at `start`, the others left as they are.
fn larger_rows<const POSITIONS: bool>(
    (pair, right): (&[f32], &[u8]),
    (top, row, lanes): (usize, usize, usize),
    only: Option<(&[u32], usize)>,
    (best, at): (&mut [f32], &mut [usize]),
) {
    let n = best.len();
    let (upper, lower) = (&pair[top..][..n], &pair[top + row..][..n]);
    let (right_upper, right_lower, at) = if POSITIONS {
        (&right[top..][..n], &right[top + row..][..n], &mut at[..n])
    } else {
        (&right[..0], &right[..0], &mut at[..0])
    };
    let mut window = |k: usize, keep: usize| {
        let (a, b) = (upper[k], lower[k]);
        let take = wins(b, a);
        if !POSITIONS {
            best[k] = pick(keep, pick(take, b, a), best[k]);
        } else {
            // The larger pair's position, then its value's within the pair.
            let (ra, rb) = (right_upper[k], right_lower[k]);
            let r = (ra ^ ((ra ^ rb) & take as u8)) as usize;
            let p = top + k + (row & take) + lanes * r;
            at[k] ^= (at[k] ^ p) & keep;
        }
    };
    match only {
        None => (0..n).for_each(|k| window(k, usize::MAX)),
        Some((starts, start)) => {
            for x in (0..n).step_by(lanes) {
                for (l, &s) in starts.iter().enumerate() {
                    window(x + l, mask(s as usize == start));
                }
            }
        }
    }
}

/// One axis's window starts for every lane of a unit, `[out, lanes]`: libtorch's, in
/// `f32` as libtorch computes them for `f32` tensors ([`super::native_starts`] gives the
/// same in `f64`), `floor((i + u) alpha) - floor(u alpha)` with `alpha = (n_in - 2) /
/// (out - 1)`, and `n_in - 2` for the last.
///
/// For one window the lanes' starts differ by at most one position (found exhaustively
/// over every `f32` sample for the MNIST net's sizes; a larger spread is still handled),
/// since `floor((i + u) alpha) - floor(u alpha)` is `floor(i alpha)` or one more. So all
/// lanes' windows `i` lie within `first[i]` and the `spread[i] + 1` positions after it.
struct Starts {
    lanes: usize,
    /// Each window's start in each lane.
    start: Vec<u32>,
    /// Each window's earliest start over the lanes, and its latest less the earliest.
    first: Vec<usize>,
    spread: Vec<usize>,
    /// Where each window's column lies in a row of [`Scratch::best`]: `start * lanes + lane`.
    column: Vec<usize>,
    /// Each lane's sample, and `floor(u alpha)`.
    u: Vec<f32>,
    offset: Vec<u32>,
}

impl Starts {
    fn new(out: usize, lanes: usize) -> Starts {
        Starts {
            lanes,
            start: vec![0; out * lanes],
            first: vec![0; out],
            spread: vec![0; out],
            column: vec![0; out * lanes],
            u: vec![0.0; lanes],
            offset: vec![0; lanes],
        }
    }

    /// The starts along an axis of `n_in` positions, for each lane's sample in `u`.
    /// Window by window, each a loop over the lanes, which compiles to SIMD.
    fn set<'a>(&mut self, n_in: usize, u: impl Iterator<Item = &'a f32>) {
        let (out, lanes) = (self.first.len(), self.lanes);
        let alpha = (n_in - 2) as f32 / (out - 1).max(1) as f32;
        for ((to, offset), &u) in self.u.iter_mut().zip(&mut self.offset).zip(u) {
            (*to, *offset) = (u, (u * alpha) as u32);
        }
        let windows = self
            .start
            .chunks_mut(lanes)
            .zip(self.column.chunks_mut(lanes));
        for (i, (start, column)) in windows.enumerate() {
            if i + 1 == out {
                start.fill((n_in - 2) as u32);
            } else {
                for ((s, &u), &offset) in start.iter_mut().zip(&self.u).zip(&self.offset) {
                    *s = ((i as f32 + u) * alpha) as u32 - offset;
                }
            }
            for (lane, (column, &s)) in column.iter_mut().zip(start.iter()).enumerate() {
                *column = s as usize * lanes + lane;
            }
            let (lo, hi) = start
                .iter()
                .fold((u32::MAX, 0), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            (self.first[i], self.spread[i]) = (lo as usize, (hi - lo) as usize);
        }
    }
}
