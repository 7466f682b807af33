//! The check of notebook 500's convolution by hand (500.3): a sliding window against
//! libtorch's `conv2d`.

use super::{Passed, verdict};
use crate::models::own::catch_torch_panic;
use anyhow::{Result, ensure};
use tch::{Device, Kind, Tensor};

/// A vertical-edge kernel (Sobel's): it is not symmetric, so flipping it shows.
fn sobel() -> Tensor {
    Tensor::from_slice(&[-1f32, 0., 1., -2., 0., 2., -1., 0., 1.]).view([3, 3])
}

/// `conv2d` of a `[H, W]` image with a `[k, k]` kernel: no padding, stride 1.
fn conv2d(image: &Tensor, kernel: &Tensor) -> Tensor {
    let (k, size) = (kernel.size()[0], image.size());
    let batch = image.view([1, 1, size[0], size[1]]);
    let weight = kernel.view([1, 1, k, k]);
    let out = batch.conv2d(&weight, None::<Tensor>, [1], [0], [1], 1);
    out.view([size[0] - k + 1, size[1] - k + 1])
}

/// Exercise 500.3: `slide(image, kernel)` lays the `[k, k]` kernel on every position of
/// the `[H, W]` image where it fits (no padding, stride 1) and returns each position's
/// sum of products, `[H - k + 1, W - k + 1]`. Compared with `conv2d` on `digit` (with
/// the Sobel kernel and a random one) and on random images of other shapes with 3x3 and
/// 5x5 kernels. A flipped kernel (the convolution of mathematics) has its own hint:
/// `conv2d`, like every deep-learning library, computes a cross-correlation.
pub fn sliding_window(
    digit: &Tensor,
    slide: impl Fn(&Tensor, &Tensor) -> Tensor,
) -> Result<Passed> {
    let digit = digit.detach().to_device(Device::Cpu).to_kind(Kind::Float);
    let digit = match digit.size()[..] {
        [h, w] | [1, h, w] | [1, 1, h, w] => digit.reshape([h, w]),
        _ => digit,
    };
    ensure!(
        digit.dim() == 2 && digit.size().iter().all(|&s| s >= 5),
        "sliding_window: pass one digit as [H, W] (at least 5x5), got shape {:?}",
        digit.size()
    );
    tch::manual_seed(500);
    let random = |shape: &[i64]| Tensor::randn(shape, (Kind::Float, Device::Cpu));
    let cases = [
        (digit.shallow_clone(), sobel()),
        (digit, random(&[3, 3])),
        (random(&[9, 7]), random(&[3, 3])),
        (random(&[8, 11]), random(&[5, 5])),
    ];
    let mut problems = Vec::new();
    for (image, kernel) in &cases {
        if let Some(problem) = window_problem(image, kernel, &slide) {
            problems.push(problem);
            break;
        }
    }
    verdict("500.3", problems, || {
        "your sliding window gives conv2d's output on the digit and on random images, with \
         3x3 and 5x5 kernels: conv2d computes this sum of products at every position"
            .to_string()
    })
}

/// What is wrong with the student's window on one image and kernel, if anything.
fn window_problem(
    image: &Tensor,
    kernel: &Tensor,
    slide: &impl Fn(&Tensor, &Tensor) -> Tensor,
) -> Option<String> {
    let (size, k) = (image.size(), kernel.size()[0]);
    let on = format!("a {}x{} image and a {k}x{k} kernel", size[0], size[1]);
    let got = match catch_torch_panic(|| slide(image, kernel)) {
        Ok(got) => got.detach().to_device(Device::Cpu).to_kind(Kind::Float),
        Err(message) => {
            return Some(format!(
                "your function panicked on {on}: {message}; keep every window inside the image"
            ));
        }
    };
    let want = conv2d(image, kernel);
    if got.size() != want.size() {
        let hint = if got.size() == size {
            "it is as large as the image, but without padding the kernel must stay inside \
             the image, so there are fewer positions than pixels"
        } else {
            "the kernel starts at every position where it fits inside the image, one pixel \
             apart, to the last one that ends on the image's last row or column"
        };
        return Some(format!(
            "on {on} your output has shape {:?}, another than conv2d's: {hint}",
            got.size()
        ));
    }
    let close = |a: &Tensor, b: &Tensor| a.isclose(b, 1e-4, 1e-4, false);
    let differs = close(&got, &want).logical_not().nonzero();
    if differs.size()[0] == 0 {
        return None;
    }
    if close(&got, &conv2d(image, &kernel.flip([0, 1])))
        .all()
        .int64_value(&[])
        == 1
    {
        return Some(format!(
            "on {on} you flipped the kernel: that is the convolution of mathematics, but \
             conv2d (like every deep-learning library) lays the kernel on the image as it \
             is, a cross-correlation; do not flip it"
        ));
    }
    let (r, c) = (differs.int64_value(&[0, 0]), differs.int64_value(&[0, 1]));
    Some(format!(
        "on {on} your output differs from conv2d's first at row {r}, column {c}: the window \
         there covers the image's rows {r} to {} and columns {c} to {}; multiply it element \
         by element with the kernel and add up",
        r + k - 1,
        c + k - 1
    ))
}
