//! Small made-up data sets with learnable classes, and writers for the real file formats.
//!
//! Class `k` is a bright block in cell `k` of a 4x3 grid (colour images also get a
//! class-dependent tint), plus uniform noise: a small net beats chance after one epoch.
//! The writers produce genuine IDX and CIFAR-10 binary files (and the `.tar.gz`), so
//! the readers can be tested end to end without the network.

use super::cifar::{BATCHES, FOLDER, RECORD};
use super::mnist::{FILES, IMAGES_MAGIC, LABELS_MAGIC};
use super::{Dataset, Examples, Source};
use crate::atomic;
use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngCore, SeedableRng};
use std::io::Write;
use std::path::Path;
use tch::{Kind, Tensor};

/// Brightness of a class's block, before noise.
const BLOCK: u8 = 170;
/// Noise is uniform in `0..NOISE`.
const NOISE: u8 = 80;

/// `n` examples `[n, channels, side, side]` of `num_classes` balanced, shuffled classes.
pub fn examples(n: usize, channels: i64, side: i64, num_classes: i64, seed: u64) -> Examples {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut labels: Vec<i64> = (0..n as i64).map(|i| i % num_classes.max(1)).collect();
    labels.shuffle(&mut rng);
    let cell = (side / 4).max(1);
    let mut patterns = vec![0u8; (num_classes * channels * side * side) as usize];
    for k in 0..num_classes {
        let (r0, c0) = ((k / 4 % 3) * cell + cell / 2, (k % 4) * cell);
        for c in 0..channels {
            let tint = if channels > 1 && (k + c) % 3 == 0 {
                BLOCK / 2
            } else {
                BLOCK
            };
            for r in r0..(r0 + cell).min(side) {
                for col in c0..(c0 + cell).min(side) {
                    patterns[(((k * channels + c) * side + r) * side + col) as usize] = tint;
                }
            }
        }
    }
    let mut noise = vec![0u8; n * (channels * side * side) as usize];
    rng.fill_bytes(&mut noise);
    let shape = [n as i64, channels, side, side];
    let labels = Tensor::from_slice(&labels);
    let base = Tensor::from_slice(&patterns)
        .view([num_classes, channels, side, side])
        .index_select(0, &labels)
        .to_kind(Kind::Int64);
    let noise = Tensor::from_slice(&noise)
        .view(shape)
        .to_kind(Kind::Int64)
        .remainder(i64::from(NOISE));
    Examples {
        images: (base + noise).clamp(0, 255).to_kind(Kind::Uint8),
        labels,
    }
}

/// An in-memory synthetic data set shaped like `like` (`mnist`, `fashion-mnist` or
/// `cifar10`), named `synthetic-<like>`, with its own pixel mean and std.
pub fn dataset(like: &str, train_n: usize, test_n: usize, seed: u64) -> Result<Dataset> {
    let source = Source::from_name(like)?;
    let (channels, side) = if source == Source::Cifar10 {
        (3, 32)
    } else {
        (1, 28)
    };
    let train = examples(train_n, channels, side, 10, seed);
    let test = examples(test_n, channels, side, 10, seed.wrapping_add(1));
    let name = format!("synthetic-{}", source.name());
    let stats = train.pixel_mean_std();
    Ok(Dataset::of(source, name, stats, train, test))
}

/// The bytes of `t` in memory order.
fn bytes_of(t: &Tensor) -> Result<Vec<u8>> {
    Vec::<u8>::try_from(&t.to_kind(Kind::Uint8).contiguous().view([-1]))
        .context("cannot read the tensor's bytes")
}

/// An IDX images file (magic `0x803`, `[N, H, W]`) of the first channel of `images`.
pub(crate) fn encode_idx_images(images: &Tensor) -> Result<Vec<u8>> {
    let s = images.size();
    if s.len() != 4 {
        bail!("expected images [N, C, H, W], got {s:?}");
    }
    let mut out = IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [s[0], s[2], s[3]] {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend(bytes_of(&images.select(1, 0))?);
    Ok(out)
}

/// An IDX labels file (magic `0x801`, `[N]`).
pub(crate) fn encode_idx_labels(labels: &Tensor) -> Result<Vec<u8>> {
    let mut out = LABELS_MAGIC.to_be_bytes().to_vec();
    out.extend_from_slice(&(labels.size()[0] as u32).to_be_bytes());
    out.extend(bytes_of(labels)?);
    Ok(out)
}

/// gzip of `bytes`.
pub(crate) fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

/// Writes a synthetic data set shaped like `like` (`mnist`, `fashion-mnist` or `cifar10`)
/// into `dir` in the real format (gzipped IDX files, or CIFAR-10's binary batches), so
/// that everything that reads the real data can run without it.
pub fn write(like: &str, dir: &Path, train_n: usize, test_n: usize) -> Result<()> {
    let data = dataset(like, train_n, test_n, 0)?;
    if Source::from_name(like)? == Source::Cifar10 {
        write_cifar_bin(dir, &data.train, &data.test)
    } else {
        write_idx(dir, &data.train, &data.test, true)
    }
}

/// Writes the four IDX files of `train` and `test` into `dir`, named as published
/// (`train-images-idx3-ubyte`), gzipped when `gz`.
pub(crate) fn write_idx(dir: &Path, train: &Examples, test: &Examples, gz: bool) -> Result<()> {
    let contents = [
        encode_idx_images(&train.images)?,
        encode_idx_labels(&train.labels)?,
        encode_idx_images(&test.images)?,
        encode_idx_labels(&test.labels)?,
    ];
    for (stem, bytes) in FILES.iter().zip(contents) {
        let mut name = stem.to_string();
        let bytes = if gz {
            name.push_str(".gz");
            gzip(&bytes)?
        } else {
            bytes
        };
        atomic::write(&dir.join(name), &bytes)?;
    }
    Ok(())
}

/// CIFAR-10 binary records (label byte, then the 3x32x32 pixels) of `examples`.
pub(crate) fn encode_cifar(examples: &Examples) -> Result<Vec<u8>> {
    let n = examples.len() as i64;
    if examples.image_shape() != [3, 32, 32] {
        bail!(
            "CIFAR-10 records need [N, 3, 32, 32] images, got {:?}",
            examples.images.size()
        );
    }
    let records = Tensor::cat(
        &[
            examples.labels.to_kind(Kind::Uint8).view([n, 1]),
            examples.images.reshape([n, (RECORD - 1) as i64]),
        ],
        1,
    );
    bytes_of(&records)
}

/// The six batch files' contents: `train` cut into five, then `test`.
pub(crate) fn batch_files(
    train: &Examples,
    test: &Examples,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let n = train.len() as i64;
    let mut out = Vec::new();
    for (i, name) in BATCHES[..5].iter().enumerate() {
        let (a, b) = (n * i as i64 / 5, n * (i as i64 + 1) / 5);
        let part = Examples {
            images: train.images.narrow(0, a, b - a),
            labels: train.labels.narrow(0, a, b - a),
        };
        out.push((*name, encode_cifar(&part)?));
    }
    out.push((BATCHES[5], encode_cifar(test)?));
    Ok(out)
}

/// Writes `dir/cifar-10-batches-bin/` with the five training batches and the test batch.
pub(crate) fn write_cifar_bin(dir: &Path, train: &Examples, test: &Examples) -> Result<()> {
    for (name, bytes) in batch_files(train, test)? {
        atomic::write(&dir.join(FOLDER).join(name), &bytes)?;
    }
    Ok(())
}
