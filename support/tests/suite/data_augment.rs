//! Augmentation keeps shapes, ranges and labels, is reproducible, and rotating by zero
//! degrees changes nothing; a batch of one image is made as a batch makes it.

use rand::SeedableRng;
use rand::rngs::StdRng;
use support::data::augment::affine;

/// Sampling matrices `[B, 2, 3]` that rotate image `i` by `degrees[i]` counter-clockwise
/// (as displayed, like `rot90`) about its centre, to test `affine` on a known rotation.
fn rotation_theta(degrees: &[f64]) -> Tensor {
    let theta: Vec<f32> = degrees
        .iter()
        .flat_map(|d| {
            let (s, c) = d.to_radians().sin_cos();
            [c as f32, -s as f32, 0.0, s as f32, c as f32, 0.0]
        })
        .collect();
    Tensor::from_slice(&theta).view([degrees.len() as i64, 2, 3])
}
use support::data::{Augment, BatchOpts, Dataset, LoadOpts, load, synthetic};
use tch::{Device, Kind, Tensor};

fn batch(channels: i64, side: i64) -> Tensor {
    synthetic::examples(16, channels, side, 10, 3)
        .images
        .to_kind(Kind::Float)
        / 255.0
}

fn presets() -> Vec<(Augment, i64, i64)> {
    vec![
        (Augment::mnist_course(), 1, 28),
        (Augment::affine_distortion(), 1, 28),
        (Augment::cifar10_course(), 3, 32),
    ]
}

#[test]
fn augmentation_keeps_shape_and_range() {
    for (aug, c, s) in presets() {
        let x = batch(c, s);
        let y = aug.apply(&x, &mut StdRng::seed_from_u64(1));
        assert_eq!(y.size(), x.size(), "{aug:?}");
        assert!(
            y.min().double_value(&[]) >= 0.0 && y.max().double_value(&[]) <= 1.0,
            "{aug:?}"
        );
        assert!(!y.equal(&x), "{aug:?} changed nothing");
    }
}

#[test]
fn augmentation_is_deterministic_for_a_seed() {
    for (aug, c, s) in presets() {
        let x = batch(c, s);
        let a = aug.apply(&x, &mut StdRng::seed_from_u64(7));
        let b = aug.apply(&x, &mut StdRng::seed_from_u64(7));
        let other = aug.apply(&x, &mut StdRng::seed_from_u64(8));
        assert!(a.equal(&b), "{aug:?} differs with the same seed");
        assert!(!a.equal(&other), "{aug:?} ignores the seed");
    }
}

#[test]
fn rotation_by_zero_degrees_is_the_identity() {
    let x = batch(3, 32);
    let y = affine(&x, &rotation_theta(&[0.0; 16]));
    let diff = (&y - &x).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "max difference {diff}");
}

#[test]
fn rotation_by_90_degrees_matches_rot90() {
    let x = batch(1, 28);
    let y = affine(&x, &rotation_theta(&[90.0; 16]));
    let expected = x.rot90(1, [2, 3]);
    let diff = (&y - &expected).abs().max().double_value(&[]);
    assert!(diff < 1e-4, "max difference {diff}");
}

#[test]
fn crop_with_padding_shifts_by_whole_pixels() {
    let aug = Augment {
        crop_padding: 4,
        ..Augment::none()
    };
    let x = batch(3, 32);
    let y = aug.apply(&x, &mut StdRng::seed_from_u64(2));
    // A whole-pixel shift with zero fill only moves pixels, so every output value is still
    // a multiple of 1/255; a sub-pixel shift would blend neighbours into other values.
    let frac = |t: &Tensor| {
        (t * 255.0 - (t * 255.0).round())
            .abs()
            .max()
            .double_value(&[])
    };
    assert!(frac(&y) < 1e-3, "pixels were blended, not shifted");
}

fn tiny() -> Dataset {
    load(
        "synthetic-mnist",
        &LoadOpts {
            quick: true,
            ..LoadOpts::default()
        },
    )
    .unwrap()
}

#[test]
fn augmented_batches_keep_labels_and_shapes() {
    let data = tiny();
    let plain = BatchOpts {
        shuffle_seed: Some(1),
        ..BatchOpts::new(&data, 64, Device::Cpu)
    };
    let augmented = BatchOpts {
        augment: Augment::mnist_course(),
        pad_to: Some(32),
        ..plain.clone()
    };
    for ((x, y), (xa, ya)) in data
        .train
        .batches(&plain)
        .zip(data.train.batches(&augmented))
    {
        assert!(y.equal(&ya), "labels follow their images");
        assert_eq!(xa.size()[1..], [1, 32, 32]);
        assert_eq!(x.size()[0], xa.size()[0]);
    }
}

#[test]
fn a_batch_of_one_is_that_image_as_a_batch_makes_it() {
    let data = tiny();
    let opts = BatchOpts {
        pad_to: Some(36),
        ..BatchOpts::new(&data, 64, Device::Cpu)
    };
    let (first, _) = data.test.batches(&opts).next().unwrap();
    let one = data.test.batch_of_one(3, &opts).unwrap();
    assert_eq!(one.size(), [1, 1, 36, 36]);
    assert!(
        one.equal(&first.narrow(0, 3, 1)),
        "normalised and padded alike"
    );
}

#[test]
fn a_batch_of_one_past_the_last_image_is_a_clear_error() {
    let data = tiny();
    let n = data.test.len();
    let opts = BatchOpts::new(&data, 1, Device::Cpu);
    let err = data.test.batch_of_one(n, &opts).unwrap_err().to_string();
    assert!(err.contains(&format!("there is no example {n}")), "{err}");
}

#[test]
fn quick_subset_is_class_balanced() {
    let data = tiny();
    assert_eq!(
        data.train.len(),
        2000,
        "quick mode keeps 2,000 training images"
    );
    let counts = data.train.class_counts(10);
    let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(hi - lo <= 1, "{counts:?}");
}

#[test]
fn validation_split_is_disjoint_balanced_and_complete() {
    let data = load(
        "synthetic-cifar10",
        &LoadOpts {
            quick: false,
            ..LoadOpts::default()
        },
    )
    .unwrap();
    let n = data.train.len();
    let first = data.train.images.get(0).copy();
    let split = data.split_validation(1000, 3).unwrap();
    let val = split.validation.as_ref().unwrap();
    assert_eq!(split.train.len() + val.len(), n);
    assert!(
        val.class_counts(10).iter().all(|&c| c == 100),
        "{:?}",
        val.class_counts(10)
    );
    let in_train = split
        .train
        .images
        .eq_tensor(&first.unsqueeze(0))
        .all_dims(&[1i64, 2, 3][..], false)
        .any();
    let in_val = val
        .images
        .eq_tensor(&first.unsqueeze(0))
        .all_dims(&[1i64, 2, 3][..], false)
        .any();
    assert!(
        bool::try_from(in_train.logical_xor(&in_val)).unwrap(),
        "each image in exactly one part"
    );
}

#[test]
fn validation_larger_than_train_is_a_clear_error() {
    let msg = format!("{:#}", tiny().split_validation(10_000, 0).unwrap_err());
    assert!(msg.contains("cannot hold out 10000"), "{msg}");
}
