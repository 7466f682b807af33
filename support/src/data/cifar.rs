//! CIFAR-10 in its binary format, and the official archive unpacked safely.
//!
//! Each batch file is a run of 3073-byte records: one label byte, then 1024 red, 1024
//! green and 1024 blue bytes of a 32x32 image, row by row. Five training batches of
//! 10,000 and one test batch of 10,000.

use super::Examples;
use crate::atomic;
use anyhow::{Context, Result, anyhow, bail};
use flate2::read::GzDecoder;
use std::path::{Component, Path, PathBuf};
use tch::Tensor;

/// The folder the archive unpacks into.
pub(crate) const FOLDER: &str = "cifar-10-batches-bin";
/// The official archive's file name.
pub(crate) const ARCHIVE: &str = "cifar-10-binary.tar.gz";
/// The batch files: five training batches, then the test batch.
pub(crate) const BATCHES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];
/// Bytes per record: one label, then 3 x 32 x 32 pixels.
pub(crate) const RECORD: usize = 1 + 3 * 32 * 32;
/// No official batch holds more than this many records; a larger archive member is refused.
const MAX_RECORDS: usize = 10_000;

/// The folder holding the six batches: `dir/cifar-10-batches-bin` or `dir` itself.
pub(crate) fn batches_dir(dir: &Path) -> Option<PathBuf> {
    [dir.join(FOLDER), dir.to_path_buf()]
        .into_iter()
        .find(|d| BATCHES.iter().all(|b| d.join(b).is_file()))
}

/// True when `dir` has the six batches or the archive.
pub fn present_in(dir: &Path) -> bool {
    batches_dir(dir).is_some() || dir.join(ARCHIVE).is_file()
}

/// Parses batch bytes read from `path`: `u8` `[N, 3, 32, 32]` images, `i64` labels.
pub(crate) fn parse_batch(bytes: &[u8], path: &Path) -> Result<Examples> {
    if bytes.is_empty() {
        bail!(
            "{} is empty (0 bytes); expected CIFAR-10 records",
            path.display()
        );
    }
    if !bytes.len().is_multiple_of(RECORD) {
        bail!(
            "{} has {} bytes, not a whole number of {RECORD}-byte CIFAR-10 records \
             ({} records and {} bytes left over); it is truncated or not a CIFAR-10 \
             binary batch (the python version has a different format)",
            path.display(),
            bytes.len(),
            bytes.len() / RECORD,
            bytes.len() % RECORD
        );
    }
    let n = bytes.len() / RECORD;
    if let Some(i) = (0..n).find(|i| bytes[i * RECORD] >= 10) {
        bail!(
            "{} has label {} in record {i}; labels must be 0..=9",
            path.display(),
            bytes[i * RECORD]
        );
    }
    let records = Tensor::from_slice(bytes).view([n as i64, RECORD as i64]);
    Ok(Examples {
        images: records
            .narrow(1, 1, RECORD as i64 - 1)
            .reshape([n as i64, 3, 32, 32]),
        labels: records.select(1, 0).to_kind(tch::Kind::Int64),
    })
}

/// Reads one batch file.
pub(crate) fn read_batch(path: &Path) -> Result<Examples> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_batch(&bytes, path)
}

/// Reads `(train, test)` from `dir`, unpacking `dir/cifar-10-binary.tar.gz` first when
/// the batches are not there yet.
pub fn read_dir(dir: &Path) -> Result<(Examples, Examples)> {
    let folder = match batches_dir(dir) {
        Some(f) => f,
        None => {
            let archive = dir.join(ARCHIVE);
            if !archive.is_file() {
                bail!(
                    "{} has neither {FOLDER}/ with {} nor {ARCHIVE}",
                    dir.display(),
                    BATCHES.join(", ")
                );
            }
            unpack(&archive, dir)?
        }
    };
    let parts = BATCHES
        .iter()
        .map(|b| read_batch(&folder.join(b)))
        .collect::<Result<Vec<_>>>()?;
    let (train, test) = parts.split_at(5);
    let cat = |xs: &[Examples]| Examples {
        images: Tensor::cat(&xs.iter().map(|e| &e.images).collect::<Vec<_>>(), 0),
        labels: Tensor::cat(&xs.iter().map(|e| &e.labels).collect::<Vec<_>>(), 0),
    };
    Ok((cat(train), cat(&test[..1])))
}

/// Unpacks the six batches of `archive` into `dest/cifar-10-batches-bin/` and returns
/// that folder. Only the expected members are written, each atomically; a member that
/// would land outside `dest` (absolute, or with `..`) stops the unpacking with an error,
/// and other members (the readme, the meta file) are skipped.
pub(crate) fn unpack(archive: &Path, dest: &Path) -> Result<PathBuf> {
    let file = std::fs::File::open(archive)
        .with_context(|| format!("cannot open {}", archive.display()))?;
    let damaged = |e: std::io::Error| {
        anyhow!(
            "{} is not a readable .tar.gz ({e}); delete it and download it again",
            archive.display()
        )
    };
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let folder = dest.join(FOLDER);
    let mut written = Vec::new();
    for entry in tar.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let member = entry.path().map_err(damaged)?.into_owned();
        if member
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            bail!(
                "{} has the unsafe member `{}`, which would be written outside {}; \
                 refusing to unpack it (download the official archive again)",
                archive.display(),
                member.display(),
                dest.display()
            );
        }
        let name = member.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let in_folder = member.parent().is_some_and(|p| p.ends_with(FOLDER));
        if !in_folder || !BATCHES.contains(&name) {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            bail!(
                "{} has `{}` as a link or special file, not a plain file; refusing it",
                archive.display(),
                member.display()
            );
        }
        let size = entry.header().size().map_err(damaged)?;
        if size > (MAX_RECORDS * RECORD) as u64 {
            bail!(
                "{} has `{}` of {size} bytes, larger than any CIFAR-10 batch",
                archive.display(),
                member.display()
            );
        }
        atomic::write_with(&folder.join(name), |f| {
            std::io::copy(&mut entry, f).map_err(damaged)?;
            Ok(())
        })?;
        written.push(name.to_string());
    }
    let missing: Vec<&str> = BATCHES
        .iter()
        .copied()
        .filter(|b| !written.iter().any(|w| w == b))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} lacks {}; it is not the CIFAR-10 binary archive ({ARCHIVE})",
            archive.display(),
            missing.join(", ")
        );
    }
    Ok(folder)
}
