//! TensorBoard event files, so that `tensorboard --logdir runs` shows the curves as in
//! the course.
//!
//! The format is small: a file of TFRecords, each `u64 length`, `u32 masked CRC-32C of
//! the length`, the bytes, `u32 masked CRC-32C of the bytes`; each record an `Event`
//! protobuf holding a wall time, a step and a `Summary` of `(tag, simple_value)` pairs.
//! The Rust crate for it (`tensorboard-rs`) pins 2020-era `image` and `protobuf`
//! versions, so the few bytes are written here instead. The whole file is rewritten
//! through a temporary file after every epoch (it is a few hundred bytes per epoch).

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// CRC-32C (Castagnoli), the checksum TFRecord uses.
fn crc32c(bytes: &[u8]) -> u32 {
    const POLY: u32 = 0x82F6_3B78;
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// TFRecord's masked checksum: `rotate_right(crc, 15) + 0xa282ead8`.
fn masked_crc(bytes: &[u8]) -> u32 {
    crc32c(bytes).rotate_right(15).wrapping_add(0xa282_ead8)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// An `Event` protobuf: wall_time (1, double), step (2, int64), file_version (3) or
/// summary (5) with `Summary.Value { tag (1), simple_value (2, float) }` entries.
fn event(
    wall_time: f64,
    step: i64,
    file_version: Option<&str>,
    scalars: &[(&str, f64)],
) -> Vec<u8> {
    let mut e = Vec::new();
    e.push(1 << 3 | 1);
    e.extend_from_slice(&wall_time.to_le_bytes());
    e.push(2 << 3);
    varint(&mut e, step as u64);
    if let Some(v) = file_version {
        bytes_field(&mut e, 3, v.as_bytes());
    }
    if !scalars.is_empty() {
        let mut summary = Vec::new();
        for (tag, value) in scalars {
            let mut val = Vec::new();
            bytes_field(&mut val, 1, tag.as_bytes());
            val.push(2 << 3 | 5);
            val.extend_from_slice(&(*value as f32).to_le_bytes());
            bytes_field(&mut summary, 1, &val);
        }
        bytes_field(&mut e, 5, &summary);
    }
    e
}

fn record(out: &mut Vec<u8>, data: &[u8]) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One `events.out.tfevents.<time>.<host>` file in a run folder.
pub(crate) struct EventWriter {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl EventWriter {
    /// Starts a new event file in `dir` (written on the first [`EventWriter::scalars`]).
    pub fn new(dir: &Path) -> Self {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let wall = now();
        let path = dir.join(format!("events.out.tfevents.{}.{host}", wall as u64));
        let mut bytes = Vec::new();
        record(&mut bytes, &event(wall, 0, Some("brain.Event:2"), &[]));
        EventWriter { path, bytes }
    }

    /// Appends the `(tag, value)` scalars at `step` and rewrites the file.
    pub fn scalars(&mut self, step: i64, scalars: &[(&str, f64)]) -> Result<()> {
        record(&mut self.bytes, &event(now(), step, None, scalars));
        crate::atomic::write(&self.path, &self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_of_123456789_is_the_standard_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn varint_of_300_is_two_bytes_as_in_the_protobuf_docs() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xAC, 0x02]);
    }
}
