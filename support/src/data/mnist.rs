//! MNIST and Fashion-MNIST in LeCun's IDX format, gzipped or plain.
//!
//! An IDX file is a big-endian header, then the bytes: magic `0x00000803` for images
//! (`[N, H, W]` after it) and `0x00000801` for labels (`[N]`). Every check below names the
//! file and says what is wrong, so that a bad download is obvious instead of a panic.

use super::Examples;
use anyhow::{Context, Result, anyhow, bail};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};
use tch::Tensor;

/// The four files, as named on the official mirrors (without `.gz`).
pub(crate) const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Magic number of an IDX file of unsigned bytes with three dimensions (images).
pub(crate) const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (labels).
pub(crate) const LABELS_MAGIC: u32 = 0x0000_0801;
/// Labels must be below this (ten digits, ten kinds of clothing).
const NUM_CLASSES: u8 = 10;

/// The names a file is found under: `train-images-idx3-ubyte` as published, and
/// `train-images.idx3-ubyte` as some unpackers rename it; each plain or `.gz`.
pub(crate) fn spellings(stem: &str) -> Vec<String> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    [stem.to_string(), dotted]
        .into_iter()
        .flat_map(|s| [format!("{s}.gz"), s])
        .collect()
}

/// The first spelling of `stem` present in `dir`.
pub(crate) fn find_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    spellings(stem)
        .into_iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

/// True when `dir` has all four files under some spelling.
pub fn present_in(dir: &Path) -> bool {
    FILES.iter().all(|stem| find_file(dir, stem).is_some())
}

/// The file's bytes, gunzipped when it is gzip (a `.gz` name must hold gzip).
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_gzip = raw.starts_with(&[0x1f, 0x8b]);
    let named_gz = path.extension().is_some_and(|e| e == "gz");
    if named_gz && !is_gzip {
        bail!(
            "{} is named .gz but is not gzip data (it starts with {:02x?}); \
             delete it and download it again",
            path.display(),
            &raw[..raw.len().min(4)]
        );
    }
    if !is_gzip {
        return Ok(raw);
    }
    let mut out = Vec::new();
    GzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| {
            anyhow!(
                "{} is a damaged gzip file ({e}); delete it and download it again",
                path.display()
            )
        })?;
    Ok(out)
}

/// The big-endian `u32` at `at`; callers check the length first.
fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks the header (magic, then `dims` sizes) and returns the sizes.
fn header(bytes: &[u8], path: &Path, magic: u32, dims: usize) -> Result<Vec<usize>> {
    let what = if magic == IMAGES_MAGIC {
        "images"
    } else {
        "labels"
    };
    let head = 4 + 4 * dims;
    if bytes.is_empty() {
        bail!(
            "{} is empty (0 bytes); expected an IDX {what} file",
            path.display()
        );
    }
    if bytes.len() < head {
        bail!(
            "{} is truncated: {} bytes, shorter than the {head}-byte IDX {what} header",
            path.display(),
            bytes.len()
        );
    }
    let found = be_u32(bytes, 0);
    if found != magic {
        bail!(
            "{} has the wrong magic number 0x{found:08x}; an IDX {what} file starts with \
             0x{magic:08x} (is it the right file, or an images/labels mix-up?)",
            path.display()
        );
    }
    let sizes: Vec<usize> = (0..dims)
        .map(|i| be_u32(bytes, 4 + 4 * i) as usize)
        .collect();
    if sizes[1..].contains(&0) {
        bail!("{} has an image side of 0 ({sizes:?})", path.display());
    }
    let expected = sizes
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .and_then(|items| items.checked_add(head))
        .ok_or_else(|| anyhow!("{} declares impossible sizes {sizes:?}", path.display()))?;
    if bytes.len() != expected {
        let kind = if bytes.len() < expected {
            "truncated"
        } else {
            "too long"
        };
        bail!(
            "{} is {kind}: its header declares {} items of {:?} ({expected} bytes with the \
             header) but it has {} bytes; delete it and download it again",
            path.display(),
            sizes[0],
            &sizes[1..],
            bytes.len()
        );
    }
    Ok(sizes)
}

/// Parses IDX image bytes read from `path` into `u8` `[N, 1, H, W]`.
pub(crate) fn parse_images(bytes: &[u8], path: &Path) -> Result<Tensor> {
    let s = header(bytes, path, IMAGES_MAGIC, 3)?;
    Ok(Tensor::from_slice(&bytes[16..]).view([s[0] as i64, 1, s[1] as i64, s[2] as i64]))
}

/// Parses IDX label bytes read from `path` into `i64` `[N]`, each checked below 10.
pub(crate) fn parse_labels(bytes: &[u8], path: &Path) -> Result<Tensor> {
    header(bytes, path, LABELS_MAGIC, 1)?;
    let labels = &bytes[8..];
    if let Some(i) = labels.iter().position(|&l| l >= NUM_CLASSES) {
        bail!(
            "{} has label {} at item {i}; labels must be 0..={}",
            path.display(),
            labels[i],
            NUM_CLASSES - 1
        );
    }
    let wide: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
    Ok(Tensor::from_slice(&wide))
}

/// Reads a matching images and labels file into [`Examples`].
pub(crate) fn read_pair(images: &Path, labels: &Path) -> Result<Examples> {
    let x = parse_images(&read_bytes(images)?, images)?;
    let y = parse_labels(&read_bytes(labels)?, labels)?;
    let (n, m) = (x.size()[0], y.size()[0]);
    if n != m {
        bail!(
            "{} has {n} images but {} has {m} labels; the two files must come from the \
             same release",
            images.display(),
            labels.display()
        );
    }
    Ok(Examples {
        images: x,
        labels: y,
    })
}

/// Reads `(train, test)` from the four files in `dir`.
pub fn read_dir(dir: &Path) -> Result<(Examples, Examples)> {
    let path = |stem: &str| {
        find_file(dir, stem).ok_or_else(|| {
            anyhow!(
                "{} has no {stem} (looked for {})",
                dir.display(),
                spellings(stem).join(", ")
            )
        })
    };
    let train = read_pair(&path(FILES[0])?, &path(FILES[1])?)?;
    let test = read_pair(&path(FILES[2])?, &path(FILES[3])?)?;
    Ok((train, test))
}
