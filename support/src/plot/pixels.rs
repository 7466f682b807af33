//! Tensors to pictures: reading image tensors into plain pixels, and drawing them.

use super::Area;
use anyhow::{Context, Result, bail};
use plotters::prelude::*;
use tch::{Kind, Tensor};

/// How a one-channel picture is coloured.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Tone {
    /// Black (0) to white (1): images.
    Gray,
    /// Viridis, dark blue (0) to yellow (1): activations, where brighter means stronger.
    Viridis,
    /// White (0) to black (1): ink on paper, for ±1 bitmaps such as LeNet's RBF centres.
    Ink,
    /// Blue (0) through white (0.5) to red (1): signed values such as filter weights or
    /// an edge kernel's response, drawn by [`signed_pictures`] so that 0.5 is zero.
    Diverging,
}

/// A picture ready to draw: `channels` (1 or 3) planes of `height` x `width` values in
/// [0, 1], channel-major like a tensor's `[C, H, W]`.
#[derive(Clone)]
pub(crate) struct Picture {
    pub(crate) height: usize,
    pub(crate) width: usize,
    pub(crate) channels: usize,
    pub(crate) data: Vec<f32>,
}

impl Picture {
    /// The colour of pixel `(y, x)`.
    fn rgb(&self, y: usize, x: usize, tone: Tone) -> [u8; 3] {
        let plane = self.height * self.width;
        let at = |c: usize| self.data[c * plane + y * self.width + x];
        if self.channels == 3 {
            return [at(0), at(1), at(2)].map(to_byte);
        }
        let v = at(0);
        match tone {
            Tone::Gray => [to_byte(v); 3],
            Tone::Viridis => ramp(&VIRIDIS, v),
            Tone::Ink => [to_byte(1.0 - v); 3],
            Tone::Diverging => ramp(&RED_BLUE, v),
        }
    }
}

fn to_byte(v: f32) -> u8 {
    if v.is_finite() {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    } else {
        0
    }
}

/// Viridis at five of its colours, `0xRRGGBB` (perceptually even, readable in grey).
const VIRIDIS: [u32; 5] = [0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725];

/// ColorBrewer's RdBu reversed at five of its colours: blue, white in the middle, red.
const RED_BLUE: [u32; 5] = [0x2166ac, 0x92c5de, 0xf7f7f7, 0xf4a582, 0xb2182b];

/// The colour at `v` in [0, 1] along five evenly spaced `stops`, interpolated.
fn ramp(stops: &[u32; 5], v: f32) -> [u8; 3] {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = v * 4.0;
    let i = (pos.floor() as usize).min(3);
    let t = pos - i as f32;
    let channel = |c: u32, k: usize| ((c >> (16 - 8 * k)) & 0xff) as f32;
    let mix = |k: usize| {
        let (a, b) = (channel(stops[i], k), channel(stops[i + 1], k));
        (a + (b - a) * t).round() as u8
    };
    [mix(0), mix(1), mix(2)]
}

/// The values of a tensor as `f32` on the CPU, with its shape.
fn values(t: &Tensor) -> Result<(Vec<i64>, Vec<f32>)> {
    Ok((t.size(), crate::layout::flat_values(t)?))
}

/// Scales values to [0, 1]: `u8` images by 1/255; others kept when already in [0, 1],
/// else stretched from their own minimum to maximum (normalised inputs, activations).
fn to_unit(values: &mut [f32], is_bytes: bool) {
    if is_bytes {
        values.iter_mut().for_each(|v| *v /= 255.0);
        return;
    }
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if lo >= 0.0 && hi <= 1.0 {
        return;
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    values.iter_mut().for_each(|v| *v = (*v - lo) / span);
}

/// A batch of images, `[N, C, H, W]` or `[N, H, W]`, with 1 or 3 channels, as pictures.
/// `what` names the argument in errors.
pub(crate) fn pictures(images: &Tensor, what: &str) -> Result<Vec<Picture>> {
    let is_bytes = images.kind() == Kind::Uint8;
    let (shape, data) = values(images)?;
    let (n, c, h, w) = match shape[..] {
        [n, c, h, w] => (n, c, h, w),
        [n, h, w] => (n, 1, h, w),
        _ => bail!("{what} must be a batch of images [N, C, H, W] or [N, H, W], got {shape:?}"),
    };
    if c != 1 && c != 3 {
        bail!("{what} must have 1 or 3 channels, got {c} (shape {shape:?})");
    }
    let (c, h, w) = (c as usize, h as usize, w as usize);
    let each = c * h * w;
    if each == 0 {
        bail!("{what} has empty images (shape {shape:?})");
    }
    let mut out = Vec::with_capacity(n as usize);
    for chunk in data.chunks_exact(each) {
        let mut data = chunk.to_vec();
        to_unit(&mut data, is_bytes);
        out.push(Picture {
            height: h,
            width: w,
            channels: c,
            data,
        });
    }
    Ok(out)
}

/// One image, `[H, W]`, `[C, H, W]` or `[1, C, H, W]`, as a picture.
pub(crate) fn picture(image: &Tensor, what: &str) -> Result<Picture> {
    let batch = match image.size()[..] {
        [h, w] => image.reshape([1, 1, h, w]),
        [c, h, w] => image.reshape([1, c, h, w]),
        [1, _, _, _] => image.shallow_clone(),
        _ => bail!(
            "{what} must be one image [H, W] or [C, H, W], got shape {:?}",
            image.size()
        ),
    };
    pictures(&batch, what)?
        .pop()
        .with_context(|| format!("{what} holds no image"))
}

/// Each channel of `[C, H, W]` activations as its own picture, stretched to [0, 1] on its
/// own range (so weak and strong maps are both visible).
pub(crate) fn channel_pictures(activations: &Tensor, what: &str) -> Result<Vec<Picture>> {
    let (shape, data) = values(activations)?;
    let (c, h, w) = match shape[..] {
        [c, h, w] | [1, c, h, w] => (c as usize, h as usize, w as usize),
        _ => bail!(
            "{what} must be one image's activations [C, H, W] (or [1, C, H, W]), got {shape:?}"
        ),
    };
    if c * h * w == 0 {
        bail!("{what} is empty (shape {shape:?})");
    }
    Ok(data
        .chunks_exact(h * w)
        .map(|plane| {
            let mut data = plane.to_vec();
            let finite = data.iter().copied().filter(|v| v.is_finite());
            let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
            let span = if hi > lo { hi - lo } else { 1.0 };
            data.iter_mut().for_each(|v| *v = (*v - lo) / span);
            Picture {
                height: h,
                width: w,
                channels: 1,
                data,
            }
        })
        .take(c)
        .collect())
}

/// Small matrices `[N, H, W]` as one-channel pictures on one shared scale: the
/// minimum over all of them maps to 0 and the maximum to 1.
pub(crate) fn matrix_pictures(matrices: &Tensor, what: &str) -> Result<Vec<Picture>> {
    stack_pictures(matrices, what, |data| {
        let finite = data.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let span = if hi > lo { hi - lo } else { 1.0 };
        data.iter_mut().for_each(|v| *v = (*v - lo) / span);
    })
}

/// Small signed matrices `[N, H, W]` as one-channel pictures on one symmetric scale:
/// `0.5 + v / (2 max|v|)`, so zero is 0.5 (white in [`Tone::Diverging`]) and the sign of
/// every value shows, comparably across all of them.
pub(crate) fn signed_pictures(matrices: &Tensor, what: &str) -> Result<Vec<Picture>> {
    stack_pictures(matrices, what, |data| {
        let finite = data.iter().copied().filter(|v| v.is_finite());
        let largest = finite.fold(0f32, |m, v| m.max(v.abs()));
        let scale = if largest > 0.0 { 0.5 / largest } else { 0.0 };
        data.iter_mut().for_each(|v| *v = 0.5 + *v * scale);
    })
}

/// A stack of matrices `[N, H, W]` as one-channel pictures, their values first mapped
/// into [0, 1] together by `scale`.
fn stack_pictures(
    matrices: &Tensor,
    what: &str,
    scale: impl FnOnce(&mut [f32]),
) -> Result<Vec<Picture>> {
    let (shape, mut data) = values(matrices)?;
    let (h, w) = match shape[..] {
        [_, h, w] if h > 0 && w > 0 => (h as usize, w as usize),
        _ => bail!("{what} must be a stack of matrices [N, H, W], got shape {shape:?}"),
    };
    scale(&mut data);
    Ok(data
        .chunks_exact(h * w)
        .map(|m| Picture {
            height: h,
            width: w,
            channels: 1,
            data: m.to_vec(),
        })
        .collect())
}

/// Where a picture lands when fitted into a box: top-left corner and size in pixels.
fn fit(pic: &Picture, (x, y): (i32, i32), (bw, bh): (u32, u32)) -> (i32, i32, u32, u32) {
    let scale = (bw as f64 / pic.width as f64).min(bh as f64 / pic.height as f64);
    let tw = ((pic.width as f64 * scale).round() as u32).max(1);
    let th = ((pic.height as f64 * scale).round() as u32).max(1);
    let x0 = x + (bw.saturating_sub(tw) / 2) as i32;
    let y0 = y + (bh.saturating_sub(th) / 2) as i32;
    (x0, y0, tw, th)
}

/// Draws `pic` scaled (nearest neighbour, keeping its aspect) into the box at `(x, y)` of
/// size `(bw, bh)`, centred; returns where it landed (`x0, y0, width, height`).
pub(crate) fn draw_picture<DB: DrawingBackend>(
    area: &Area<DB>,
    pic: &Picture,
    corner: (i32, i32),
    size: (u32, u32),
    tone: Tone,
) -> Result<(i32, i32, u32, u32)>
where
    DB::ErrorType: 'static,
{
    let (x0, y0, tw, th) = fit(pic, corner, size);
    let mut buf = Vec::with_capacity(tw as usize * th as usize * 3);
    for py in 0..th as usize {
        let sy = (py * pic.height / th as usize).min(pic.height - 1);
        for px in 0..tw as usize {
            let sx = (px * pic.width / tw as usize).min(pic.width - 1);
            buf.extend_from_slice(&pic.rgb(sy, sx, tone));
        }
    }
    let element = BitMapElement::with_owned_buffer((x0, y0), (tw, th), buf)
        .context("internal: the picture buffer has the wrong size")?;
    area.draw(&element)?;
    Ok((x0, y0, tw, th))
}
