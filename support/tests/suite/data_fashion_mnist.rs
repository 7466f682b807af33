//! The real Fashion-MNIST from Debian's `dataset-fashion-mnist` package, when installed.

use std::path::Path;
use support::data::{LoadOpts, Source, load};

const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";

fn installed() -> bool {
    let present = Source::FashionMnist.present_in(Path::new(DEBIAN_DIR));
    if !present {
        eprintln!(
            "SKIPPED: {DEBIAN_DIR} is absent; install the Debian package dataset-fashion-mnist \
             to run the real Fashion-MNIST checks"
        );
    }
    present
}

#[test]
fn real_fashion_mnist_has_60000_train_and_10000_test_images_balanced() {
    if !installed() {
        return;
    }
    let opts = LoadOpts {
        path: Some(DEBIAN_DIR.into()),
        download: false,
        quick: false,
        ..LoadOpts::default()
    };
    let data = load("fashion-mnist", &opts).unwrap();
    assert_eq!(data.train.len(), 60_000);
    assert_eq!(data.test.len(), 10_000);
    assert_eq!(data.image_shape(), [1, 28, 28]);
    assert_eq!(data.train.class_counts(10), vec![6_000; 10]);
    assert_eq!(data.test.class_counts(10), vec![1_000; 10]);
    let (mean, std) = data.train.pixel_mean_std();
    assert!(
        (mean[0] - data.mean[0]).abs() < 5e-4,
        "mean {mean:?} vs {:?}",
        data.mean
    );
    assert!(
        (std[0] - data.std[0]).abs() < 5e-4,
        "std {std:?} vs {:?}",
        data.std
    );
}
