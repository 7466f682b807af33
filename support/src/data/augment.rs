//! Batched augmentation on the training device.
//!
//! Every geometric distortion of a batch (rotation, scale, shear, translation, flip and
//! the padded random crop) is folded into one 2x3 matrix per image, and the whole batch
//! is resampled by one `affine_grid_generator` + `grid_sampler` call: the output pixel at
//! normalised position p reads the input at `A p + t`, bilinearly, with zeros outside.
//! A crop of a zero-padded image is exactly an integer translation with zero fill, so
//! it needs no padding copy. Colour jitter is three per-image blends, as in torchvision's
//! `ColorJitter`. Only the random parameters are drawn per image; no pixel loop.

use rand::Rng;
use rand::rngs::StdRng;
use tch::Tensor;

/// Which random distortions to apply to each training batch. The default applies none.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augment {
    /// Random rotation of up to this many degrees either way (the course uses 10 for MNIST).
    pub rotation_degrees: f64,
    /// Random zoom by a factor in `[1 - scale, 1 + scale]`.
    pub scale: f64,
    /// Random horizontal shear of up to this many degrees either way.
    pub shear_degrees: f64,
    /// Random shift of up to this fraction of the image side, in each direction.
    pub translate: f64,
    /// Mirror left-right with probability 1/2.
    pub horizontal_flip: bool,
    /// Random crop of the image zero-padded by this many pixels on each side (4 for
    /// CIFAR-10): a random whole-pixel shift of up to this many pixels.
    pub crop_padding: i64,
    /// Multiply the pixels by a factor in `[1 - b, 1 + b]`.
    pub brightness: f64,
    /// Blend with the image's mean grey by a factor in `[1 - c, 1 + c]`.
    pub contrast: f64,
    /// Blend with the grey version of the image by a factor in `[1 - s, 1 + s]` (colour only).
    pub saturation: f64,
}

impl std::fmt::Display for Augment {
    /// The distortions switched on, such as `rotation 10 deg, flips`, or `no distortions`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self;
        let parts: Vec<String> = [
            (a.rotation_degrees, "rotation", "deg"),
            (a.scale * 100.0, "zoom", "%"),
            (a.shear_degrees, "shear", "deg"),
            (a.translate * 100.0, "shift", "%"),
            (a.crop_padding as f64, "crops padded by", "px"),
            (a.brightness * 100.0, "brightness", "%"),
            (a.contrast * 100.0, "contrast", "%"),
            (a.saturation * 100.0, "saturation", "%"),
        ]
        .into_iter()
        .filter(|(v, _, _)| *v != 0.0)
        .map(|(v, name, unit)| format!("{name} {v} {unit}"))
        .chain(a.horizontal_flip.then(|| "flips".to_string()))
        .collect();
        if parts.is_empty() {
            write!(f, "no distortions")
        } else {
            write!(f, "{}", parts.join(", "))
        }
    }
}

impl Augment {
    /// No distortion.
    pub fn none() -> Self {
        Augment::default()
    }

    /// The course's MNIST training transform: `RandomRotation(10)`.
    pub fn mnist_course() -> Self {
        Augment {
            rotation_degrees: 10.0,
            ..Augment::default()
        }
    }

    /// The course's CIFAR-10 training transform: flips, random crops with padding 4 and
    /// colour jitter of 0.2.
    pub fn cifar10_course() -> Self {
        Augment {
            horizontal_flip: true,
            crop_padding: 4,
            brightness: 0.2,
            contrast: 0.2,
            saturation: 0.2,
            ..Augment::default()
        }
    }

    /// Random affine distortions in the spirit of Graham (2014) and LeCun et al. (1998):
    /// small rotations, zooms, shears and shifts of each digit.
    pub fn affine_distortion() -> Self {
        Augment {
            rotation_degrees: 10.0,
            scale: 0.1,
            shear_degrees: 10.0,
            translate: 0.1,
            ..Augment::default()
        }
    }

    /// True when no distortion is switched on.
    pub fn is_none(&self) -> bool {
        !self.is_geometric() && !self.is_colour()
    }

    fn is_geometric(&self) -> bool {
        self.rotation_degrees != 0.0
            || self.scale != 0.0
            || self.shear_degrees != 0.0
            || self.translate != 0.0
            || self.horizontal_flip
            || self.crop_padding > 0
    }

    fn is_colour(&self) -> bool {
        self.brightness != 0.0 || self.contrast != 0.0 || self.saturation != 0.0
    }

    /// Distorts a float batch `[B, C, H, W]` of pixels in [0, 1], drawing from `rng`.
    /// The result has the same shape and stays in [0, 1].
    pub fn apply(&self, batch: &Tensor, rng: &mut StdRng) -> Tensor {
        let mut x = batch.shallow_clone();
        if self.is_geometric() {
            x = affine(&x, &self.draw_theta(&x, rng));
        }
        if self.is_colour() {
            x = self.jitter(&x, rng);
        }
        x
    }

    /// One sampling matrix per image: rotation x shear x zoom x flip, then the shift.
    fn draw_theta(&self, x: &Tensor, rng: &mut StdRng) -> Tensor {
        let s = x.size();
        let (b, h, w) = (s[0] as usize, s[2] as f64, s[3] as f64);
        let pad = self.crop_padding.max(0);
        let mut theta = Vec::with_capacity(b * 6);
        for _ in 0..b {
            let angle = symmetric(rng, self.rotation_degrees).to_radians();
            let shear = symmetric(rng, self.shear_degrees).to_radians().tan();
            let zoom = 1.0 + symmetric(rng, self.scale);
            let flip = if self.horizontal_flip && rng.random::<bool>() {
                -1.0
            } else {
                1.0
            };
            let (cx, cy) = (
                rng.random_range(-pad..=pad) as f64 * 2.0 / w,
                rng.random_range(-pad..=pad) as f64 * 2.0 / h,
            );
            let tx = symmetric(rng, self.translate) * 2.0 + cx;
            let ty = symmetric(rng, self.translate) * 2.0 + cy;
            let (cos, sin) = (angle.cos(), angle.sin());
            // [[cos, -sin], [sin, cos]] x [[1, shear], [0, 1]] x (1/zoom) x diag(flip, 1)
            let a = [
                cos / zoom * flip,
                (cos * shear - sin) / zoom,
                sin / zoom * flip,
                (sin * shear + cos) / zoom,
            ];
            theta.extend_from_slice(&[a[0], a[1], tx, a[2], a[3], ty]);
        }
        Tensor::from_slice(&theta)
            .view([b as i64, 2, 3])
            .to_kind(x.kind())
            .to_device(x.device())
    }

    /// Brightness, contrast and saturation blends with per-image factors.
    fn jitter(&self, x: &Tensor, rng: &mut StdRng) -> Tensor {
        let b = x.size()[0] as usize;
        let mut factors = |spread: f64| {
            let f: Vec<f64> = (0..b)
                .map(|_| (1.0 + symmetric(rng, spread)).max(0.0))
                .collect();
            Tensor::from_slice(&f)
                .view([b as i64, 1, 1, 1])
                .to_kind(x.kind())
                .to_device(x.device())
        };
        let mut x = x.shallow_clone();
        if self.brightness != 0.0 {
            x = (&x * factors(self.brightness)).clamp(0.0, 1.0);
        }
        if self.contrast != 0.0 {
            let mean = grey(&x).mean_dim(&[1i64, 2, 3][..], true, x.kind());
            x = blend(&x, &mean, &factors(self.contrast));
        }
        if self.saturation != 0.0 && x.size()[1] == 3 {
            let g = grey(&x);
            x = blend(&x, &g, &factors(self.saturation));
        }
        x
    }
}

/// A uniform draw in `[-spread, spread]` (0 when `spread` is 0, without using `rng`'s range).
fn symmetric(rng: &mut StdRng, spread: f64) -> f64 {
    if spread == 0.0 {
        0.0
    } else {
        (rng.random::<f64>() * 2.0 - 1.0) * spread.abs()
    }
}

/// `f x + (1 - f) other`, clamped to [0, 1].
fn blend(x: &Tensor, other: &Tensor, f: &Tensor) -> Tensor {
    let rest = f.ones_like() - f;
    (x * f + other * rest).clamp(0.0, 1.0)
}

/// ITU-R 601 luma `0.299 R + 0.587 G + 0.114 B` as `[B, 1, H, W]` (a grey batch as is).
fn grey(x: &Tensor) -> Tensor {
    if x.size()[1] != 3 {
        return x.mean_dim(&[1i64][..], true, x.kind());
    }
    let w = Tensor::from_slice(&[0.299f32, 0.587, 0.114])
        .view([1, 3, 1, 1])
        .to_kind(x.kind())
        .to_device(x.device());
    (x * w).sum_dim_intlist(&[1i64][..], true, x.kind())
}

/// Resamples `x` `[B, C, H, W]` through the per-image matrices `theta` `[B, 2, 3]`
/// (bilinear, zeros outside, `align_corners = false` so that the identity matrix maps
/// every pixel centre onto itself).
pub fn affine(x: &Tensor, theta: &Tensor) -> Tensor {
    let grid = Tensor::affine_grid_generator(theta, x.size(), false);
    x.grid_sampler(&grid, 0, 0, false)
}
