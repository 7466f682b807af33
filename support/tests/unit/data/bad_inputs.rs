//! Every kind of damaged input is a clear error naming the file and the fault, never a
//! panic.

use crate::data::synthetic;
use crate::data::{LoadOpts, Source, cifar, load, locate, mnist};
use std::path::Path;

fn idx_images(n: usize) -> Vec<u8> {
    synthetic::encode_idx_images(&synthetic::examples(n, 1, 28, 10, 1).images).unwrap()
}

fn idx_labels(n: usize) -> Vec<u8> {
    synthetic::encode_idx_labels(&synthetic::examples(n, 1, 28, 10, 1).labels).unwrap()
}

/// Writes `bytes` as `name` in a fresh folder and returns the reader's error message.
fn images_error(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = mnist::read_bytes(&path)
        .and_then(|b| mnist::parse_images(&b, &path))
        .expect_err("damaged input must fail");
    format!("{err:#}")
}

fn labels_error(bytes: &[u8]) -> String {
    let path = Path::new("train-labels-idx1-ubyte");
    format!(
        "{:#}",
        mnist::parse_labels(bytes, path).expect_err("damaged input must fail")
    )
}

#[test]
fn truncated_idx_file_is_a_clear_error() {
    let mut bytes = idx_images(10);
    bytes.truncate(bytes.len() - 100);
    let msg = images_error("train-images-idx3-ubyte", &bytes);
    assert!(
        msg.contains("train-images-idx3-ubyte") && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn idx_header_shorter_than_16_bytes_is_a_clear_error() {
    let msg = images_error("train-images-idx3-ubyte", &idx_images(1)[..10]);
    assert!(msg.contains("header") && msg.contains("truncated"), "{msg}");
}

#[test]
fn wrong_magic_is_a_clear_error() {
    let msg = images_error("train-images-idx3-ubyte", &idx_labels(10));
    assert!(msg.contains("wrong magic number 0x00000801"), "{msg}");
}

#[test]
fn wrong_declared_count_is_a_clear_error() {
    let mut bytes = idx_images(10);
    bytes[4..8].copy_from_slice(&11u32.to_be_bytes());
    let msg = images_error("train-images-idx3-ubyte", &bytes);
    assert!(msg.contains("declares 11 items"), "{msg}");
}

#[test]
fn trailing_bytes_are_a_clear_error() {
    let mut bytes = idx_images(10);
    bytes.extend_from_slice(&[0; 5]);
    let msg = images_error("train-images-idx3-ubyte", &bytes);
    assert!(msg.contains("too long"), "{msg}");
}

#[test]
fn label_out_of_range_is_a_clear_error() {
    let mut bytes = idx_labels(10);
    bytes[8 + 3] = 12;
    let msg = labels_error(&bytes);
    assert!(msg.contains("label 12 at item 3"), "{msg}");
}

#[test]
fn empty_file_is_a_clear_error() {
    let msg = images_error("train-images-idx3-ubyte", &[]);
    assert!(msg.contains("is empty"), "{msg}");
}

#[test]
fn gz_that_is_not_gzip_is_a_clear_error() {
    let msg = images_error("train-images-idx3-ubyte.gz", &idx_images(3));
    assert!(
        msg.contains("train-images-idx3-ubyte.gz") && msg.contains("not gzip"),
        "{msg}"
    );
}

#[test]
fn damaged_gzip_is_a_clear_error() {
    let mut gz = synthetic::gzip(&idx_images(50)).unwrap();
    gz.truncate(gz.len() / 2);
    let msg = images_error("train-images-idx3-ubyte.gz", &gz);
    assert!(msg.contains("damaged gzip"), "{msg}");
}

#[test]
fn image_and_label_counts_that_disagree_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = (dir.path().join("i"), dir.path().join("l"));
    std::fs::write(&images, idx_images(10)).unwrap();
    std::fs::write(&labels, idx_labels(9)).unwrap();
    let msg = format!("{:#}", mnist::read_pair(&images, &labels).unwrap_err());
    assert!(
        msg.contains("10 images") && msg.contains("9 labels"),
        "{msg}"
    );
}

#[test]
fn cifar_file_of_the_wrong_size_is_a_clear_error() {
    let bytes = synthetic::encode_cifar(&synthetic::examples(3, 3, 32, 10, 1)).unwrap();
    let path = Path::new("data_batch_1.bin");
    let msg = format!(
        "{:#}",
        cifar::parse_batch(&bytes[..bytes.len() - 1], path).unwrap_err()
    );
    assert!(
        msg.contains("data_batch_1.bin") && msg.contains("3073-byte"),
        "{msg}"
    );
}

#[test]
fn cifar_label_out_of_range_is_a_clear_error() {
    let mut bytes = synthetic::encode_cifar(&synthetic::examples(3, 3, 32, 10, 1)).unwrap();
    bytes[cifar::RECORD] = 200;
    let msg = format!(
        "{:#}",
        cifar::parse_batch(&bytes, Path::new("test_batch.bin")).unwrap_err()
    );
    assert!(msg.contains("label 200 in record 1"), "{msg}");
}

#[test]
fn empty_cifar_file_is_a_clear_error() {
    let msg = format!(
        "{:#}",
        cifar::parse_batch(&[], Path::new("test_batch.bin")).unwrap_err()
    );
    assert!(msg.contains("test_batch.bin is empty"), "{msg}");
}

/// A gzipped tarball with one member whose stored name is `name` (written raw, since
/// the tar crate refuses to build unsafe names).
fn tarball_with(name: &str) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    let field = &mut header.as_old_mut().name;
    field[..name.len()].copy_from_slice(name.as_bytes());
    header.set_size(4);
    header.set_mode(0o644);
    header.set_cksum();
    let mut raw = header.as_bytes().to_vec();
    raw.extend_from_slice(b"evil");
    raw.resize(raw.len() + 508 + 1024, 0);
    synthetic::gzip(&raw).unwrap()
}

#[test]
fn tarball_with_a_parent_member_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("inner");
    std::fs::create_dir(&dest).unwrap();
    let archive = dest.join(cifar::ARCHIVE);
    std::fs::write(
        &archive,
        tarball_with("../cifar-10-batches-bin/data_batch_1.bin"),
    )
    .unwrap();
    let msg = format!("{:#}", cifar::unpack(&archive, &dest).unwrap_err());
    assert!(
        msg.contains("unsafe member") && msg.contains("../"),
        "{msg}"
    );
    assert!(
        !dir.path().join(cifar::FOLDER).exists(),
        "nothing written outside"
    );
}

/// The error of unpacking an archive of these bytes, with its causes.
fn unpack_error(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join(cifar::ARCHIVE);
    std::fs::write(&archive, bytes).unwrap();
    format!("{:#}", cifar::unpack(&archive, dir.path()).unwrap_err())
}

#[test]
fn tarball_with_an_absolute_member_is_refused() {
    let msg = unpack_error(&tarball_with("/tmp/cifar-10-batches-bin/test_batch.bin"));
    assert!(msg.contains("unsafe member"), "{msg}");
}

#[test]
fn archive_that_is_not_gzip_is_a_clear_error() {
    let msg = unpack_error(b"<html>not found</html>");
    assert!(msg.contains("not a readable .tar.gz"), "{msg}");
}

#[test]
fn archive_missing_batches_is_a_clear_error() {
    let msg = unpack_error(&tarball_with("cifar-10-batches-bin/readme.html"));
    assert!(msg.contains("lacks data_batch_1.bin"), "{msg}");
}

#[test]
fn missing_data_at_a_given_path_lists_that_path_only_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LoadOpts {
        path: Some(dir.path().to_path_buf()),
        download: false,
        quick: false,
        ..LoadOpts::default()
    };
    let msg = format!("{:#}", load("cifar10", &opts).unwrap_err());
    assert!(
        msg.contains("Searched") && msg.contains(&dir.path().display().to_string()),
        "{msg}"
    );
    assert!(!msg.contains("/usr/share/datasets"), "{msg}");
    assert!(
        msg.contains("cifar-10-binary.tar.gz") && msg.contains("To fix"),
        "{msg}"
    );
}

#[test]
fn unknown_data_set_name_is_a_clear_error() {
    let msg = format!("{:#}", load("imagenet", &LoadOpts::default()).unwrap_err());
    assert!(msg.contains("unknown data set `imagenet`"), "{msg}");
}

#[test]
fn damaged_file_in_a_found_folder_names_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = synthetic::examples(10, 1, 28, 10, 1);
    synthetic::write_idx(dir.path(), &e, &e, false).unwrap();
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), [0u8, 0, 8]).unwrap();
    let opts = LoadOpts {
        path: Some(dir.path().to_path_buf()),
        download: false,
        quick: false,
        ..LoadOpts::default()
    };
    let msg = format!("{:#}", load("mnist", &opts).unwrap_err());
    assert!(
        msg.contains("t10k-labels-idx1-ubyte") && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn a_given_path_is_the_only_place_searched() {
    let everywhere = locate::places(Source::Cifar10, None);
    assert!(
        everywhere
            .iter()
            .any(|p| p.dir == Path::new("/usr/share/datasets/cifar10")),
        "{everywhere:?}"
    );
    let given = locate::places(Source::Cifar10, Some(Path::new("/x")));
    assert!(given.iter().all(|p| p.dir.starts_with("/x")), "{given:?}");
}
