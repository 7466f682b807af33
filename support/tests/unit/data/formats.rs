//! Writers and readers agree: synthetic data sets survive a round trip through the real
//! IDX and CIFAR-10 formats, under every spelling and compression.

use crate::data::synthetic;
use crate::data::{Examples, LoadOpts, Source, cifar, load, mnist};
use std::path::Path;
use tch::Tensor;

fn same(a: &Examples, b: &Examples) -> bool {
    a.images.size() == b.images.size()
        && a.images.equal(&b.images)
        && a.labels.equal(&b.labels)
        && a.labels.kind() == tch::Kind::Int64
        && a.images.kind() == tch::Kind::Uint8
}

/// Writes IDX files and reads them back; `dotted` renames them as some unpackers write
/// them (`train-images.idx3-ubyte`), which the reader must find too.
fn idx_round_trip(dotted: bool, gz: bool) {
    let dir = tempfile::tempdir().unwrap();
    let train = synthetic::examples(50, 1, 28, 10, 1);
    let test = synthetic::examples(20, 1, 28, 10, 2);
    synthetic::write_idx(dir.path(), &train, &test, gz).unwrap();
    if dotted {
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replacen("-idx", ".idx", 1);
            std::fs::rename(&path, dir.path().join(name)).unwrap();
        }
    }
    assert!(
        mnist::present_in(dir.path()),
        "the reader finds the written files"
    );
    let (train2, test2) = mnist::read_dir(dir.path()).unwrap();
    assert!(
        same(&train2, &train),
        "train round trip (dotted={dotted}, gz={gz})"
    );
    assert!(
        same(&test2, &test),
        "test round trip (dotted={dotted}, gz={gz})"
    );
}

#[test]
fn idx_gz_dashed_round_trips() {
    idx_round_trip(false, true);
}

#[test]
fn idx_plain_dashed_round_trips() {
    idx_round_trip(false, false);
}

#[test]
fn idx_gz_dotted_round_trips() {
    idx_round_trip(true, true);
}

#[test]
fn idx_plain_dotted_round_trips() {
    idx_round_trip(true, false);
}

#[test]
fn cifar_batches_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let train = synthetic::examples(60, 3, 32, 10, 3);
    let test = synthetic::examples(15, 3, 32, 10, 4);
    synthetic::write_cifar_bin(dir.path(), &train, &test).unwrap();
    let (train2, test2) = cifar::read_dir(dir.path()).unwrap();
    assert!(same(&train2, &train) && same(&test2, &test));
}

#[test]
fn cifar_archive_round_trips_and_unpacks_into_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let train = synthetic::examples(60, 3, 32, 10, 5);
    let test = synthetic::examples(15, 3, 32, 10, 6);
    write_cifar_tar_gz(dir.path(), &train, &test).unwrap();
    assert!(cifar::present_in(dir.path()));
    let (train2, test2) = cifar::read_dir(dir.path()).unwrap();
    assert!(same(&train2, &train) && same(&test2, &test));
    assert!(
        dir.path()
            .join(cifar::FOLDER)
            .join("test_batch.bin")
            .is_file()
    );
    assert!(
        !dir.path()
            .join(cifar::FOLDER)
            .join("batches.meta.txt")
            .exists()
    );
}

#[test]
fn load_reads_an_explicit_path_with_names_and_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let train = synthetic::examples(100, 1, 28, 10, 7);
    let test = synthetic::examples(30, 1, 28, 10, 8);
    synthetic::write_idx(dir.path(), &train, &test, true).unwrap();
    let opts = LoadOpts {
        path: Some(dir.path().to_path_buf()),
        validation: 20,
        download: false,
        quick: false,
        ..LoadOpts::default()
    };
    let data = load("fashion-mnist", &opts).unwrap();
    assert_eq!(data.classes[0], "T-shirt/top");
    assert_eq!(data.classes[9], "Ankle boot");
    assert_eq!(data.mean, Source::FashionMnist.mean_std().0);
    assert_eq!(data.train.len(), 80);
    assert_eq!(data.validation.as_ref().map(Examples::len), Some(20));
    assert_eq!(data.test.len(), 30);
}

#[test]
fn cifar10_statistics_are_per_channel() {
    let (mean, std) = Source::Cifar10.mean_std();
    assert_eq!(mean, vec![0.4914, 0.4822, 0.4465]);
    assert_eq!(std, vec![0.2470, 0.2435, 0.2616]);
}

#[test]
fn synthetic_classes_are_learnable_by_nearest_class_mean() {
    let train = synthetic::examples(500, 1, 28, 10, 9);
    let test = synthetic::examples(200, 1, 28, 10, 10);
    let flat = |e: &Examples| {
        e.images
            .to_kind(tch::Kind::Float)
            .view([e.len() as i64, -1])
    };
    let (x, xt) = (flat(&train), flat(&test));
    let one_hot = train.labels.one_hot(10).to_kind(tch::Kind::Float);
    let means = one_hot.tr().matmul(&x)
        / one_hot
            .sum_dim_intlist(&[0i64][..], false, tch::Kind::Float)
            .unsqueeze(1);
    let guess = Tensor::cdist(&xt, &means, 2.0, None).argmin(1, false);
    let accuracy = guess
        .eq_tensor(&test.labels)
        .to_kind(tch::Kind::Float)
        .mean(tch::Kind::Float);
    assert!(
        f64::try_from(accuracy).unwrap() > 0.5,
        "far above the 10 % of chance"
    );
}

/// Writes `dir/cifar-10-binary.tar.gz` laid out like the official archive, for the reader
/// of the archive to unpack.
fn write_cifar_tar_gz(dir: &Path, train: &Examples, test: &Examples) -> anyhow::Result<()> {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let meta = Source::Cifar10.classes().join("\n") + "\n";
    let mut members = vec![("batches.meta.txt", meta.into_bytes())];
    members.extend(synthetic::batch_files(train, test)?);
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("{}/{name}", cifar::FOLDER),
            bytes.as_slice(),
        )?;
    }
    let gz = tar.into_inner()?.finish()?;
    crate::atomic::write(&dir.join(cifar::ARCHIVE), &gz)
}
