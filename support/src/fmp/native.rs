//! libtorch's `fractional_max_pool2d` (`Regions::Native`) on the CPU, computed in Rust.
//!
//! The windows are libtorch's to the bit: 2x2, one offset pair per image and channel from
//! the same `[N, C, 2]` samples, the starts in the same `f32` arithmetic, ties and NaNs
//! resolved the same way, so the output equals libtorch's op for the same samples. What
//! differs is the cost. libtorch's CPU loop compares each window's four values one after
//! another, plane by plane (a channels-last input is first copied to planes); here the
//! larger of every pair of neighbours comes from one SIMD pass over the image, in either
//! layout, and a window is then one comparison of two pairs. As for Graham's regions
//! ([`super::layer`]), the backward pass is a single scatter-add onto the argmax
//! positions, which a `gather` with autograd provides.

use super::cpu::{Want, pick, split_units, wins};
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
    // Strides within an image: of a channel, a row and a column.
    let [sc, sh, sw] = if channels_last {
        [1, w * c, c]
    } else {
        [h * w, w, 1]
    };
    let len = c * h * w;
    split_units(
        (input, out_values, out_index),
        (len, c * o * o),
        || Scratch {
            rows: vec![0; o * c],
            cols: vec![0; o * c],
            line: Vec::with_capacity(o),
            pair: vec![0.0; len - sw],
            right: vec![0; len - sw],
        },
        |scratch, image, img, values, index| {
            let Scratch {
                rows,
                cols,
                line,
                pair,
                right,
            } = scratch;
            // Each window's first position is `rows[i C + ch] + cols[j C + ch]`.
            for (ch, u) in u[image * 2 * c..][..2 * c].chunks(2).enumerate() {
                starts(h, o, u[1], line);
                for (i, r) in line.iter().enumerate() {
                    rows[i * c + ch] = ch * sc + r * sh;
                }
                starts(w, o, u[0], line);
                for (j, s) in line.iter().enumerate() {
                    cols[j * c + ch] = s * sw;
                }
            }
            // The larger of each value and its right-hand neighbour, in one contiguous
            // pass over the image (the last column's pairs are never read), and which
            // of the two it was where positions are wanted.
            let neighbours = img.iter().zip(&img[sw..]);
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
            let mut out = values.iter_mut().zip(index.iter_mut());
            let mut window = |top: usize| {
                let (value, at) = out.next().expect("one output per window");
                // Which row wins, as a number: a select here compiles to a branch, which
                // random data mispredicts half the time.
                let lower = wins(pair[top + sh], pair[top]) & 1;
                let row = top + sh * lower;
                if positions {
                    *at = (row + sw * right[row] as usize) as i64;
                } else {
                    *value = pair[row];
                }
            };
            // The output in memory order.
            if channels_last {
                for i in 0..o {
                    for j in 0..o {
                        (0..c).for_each(|ch| window(rows[i * c + ch] + cols[j * c + ch]));
                    }
                }
            } else {
                for ch in 0..c {
                    for i in 0..o {
                        (0..o).for_each(|j| window(rows[i * c + ch] + cols[j * c + ch]));
                    }
                }
            }
        },
    );
    Some(if positions { index } else { values })
}

/// One thread's working memory for [`window_max`], sized for one image.
///
/// A window's maximum is the larger of its two rows' pairs, the upper one on a tie, and
/// a pair's is the larger of its two values, the left one on a tie: the first largest
/// value in libtorch's reading order (row by row), with a NaN always winning, as in its
/// loop.
struct Scratch {
    /// Each window row's first position, `[out, C]`: the channel's offset included.
    rows: Vec<usize>,
    /// Each window column's offset, `[out, C]`.
    cols: Vec<usize>,
    /// One channel's starts along an axis.
    line: Vec<usize>,
    /// Each position's pair maximum: of its value and its right-hand neighbour's.
    pair: Vec<f32>,
    /// 1 where the neighbour's value is the pair's maximum, 0 where its own is.
    right: Vec<u8>,
}

/// libtorch's window starts along an axis for one sample `u`, in `f32` as libtorch
/// computes them for `f32` tensors ([`super::native_starts`] gives the same in `f64`):
/// `floor((i + u) alpha) - floor(u alpha)` with `alpha = (n_in - 2) / (n_out - 1)`, and
/// `n_in - 2` for the last.
fn starts(n_in: usize, n_out: usize, u: f32, into: &mut Vec<usize>) {
    into.clear();
    let alpha = (n_in - 2) as f32 / (n_out - 1).max(1) as f32;
    let offset = (u * alpha) as usize;
    into.extend((0..n_out - 1).map(|i| ((i as f32 + u) * alpha) as usize - offset));
    into.push(n_in - 2);
}
