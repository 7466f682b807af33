//! Downloading the data sets from the mirrors torchvision uses, checked by MD5.
//!
//! Each file is streamed into a temporary file next to its target while its MD5 is
//! computed, and renamed into place only when the checksum matches (see
//! [`crate::atomic`]), so an interrupted or corrupted download never leaves a file that a
//! later run would trust. When a mirror fails, the next one is tried.

use super::Source;
use crate::atomic;
use anyhow::{Context, Result, anyhow, bail};
use md5::{Digest, Md5};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// One file to fetch and its published MD5 checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Remote {
    /// The file name, the same on every mirror.
    pub file: &'static str,
    /// The published MD5 of the file as downloaded (lower-case hex).
    pub md5: &'static str,
}

/// Set this to a base URL (ending in `/`) to try a local mirror before the official ones.
pub(crate) const MIRROR_ENV: &str = "CNN_DATA_MIRROR";

/// The base URLs to try for `source`, in order: `$CNN_DATA_MIRROR` if set, then the
/// ones torchvision uses (for MNIST: the PyTorch S3 copy first, LeCun's site second).
pub(crate) fn mirrors(source: Source) -> Vec<String> {
    let official: &[&str] = match source {
        Source::Mnist => &[
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        Source::FashionMnist => &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        Source::Cifar10 => &["https://www.cs.toronto.edu/~kriz/"],
    };
    let local = std::env::var(MIRROR_ENV).ok().filter(|s| !s.is_empty());
    local
        .into_iter()
        .chain(official.iter().map(|s| s.to_string()))
        .collect()
}

/// The files of `source` with their checksums: torchvision's `MNIST.resources` and
/// `FashionMNIST.resources`, and for CIFAR-10 the binary archive's MD5 published on
/// Krizhevsky's page (torchvision itself downloads the python version).
pub(crate) fn remotes(source: Source) -> &'static [Remote] {
    const MNIST: [Remote; 4] = [
        Remote {
            file: "train-images-idx3-ubyte.gz",
            md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        },
        Remote {
            file: "train-labels-idx1-ubyte.gz",
            md5: "d53e105ee54ea40749a09fcbcd1e9432",
        },
        Remote {
            file: "t10k-images-idx3-ubyte.gz",
            md5: "9fb629c4189551a2d022fa330f9573f3",
        },
        Remote {
            file: "t10k-labels-idx1-ubyte.gz",
            md5: "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ];
    const FASHION: [Remote; 4] = [
        Remote {
            file: "train-images-idx3-ubyte.gz",
            md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        },
        Remote {
            file: "train-labels-idx1-ubyte.gz",
            md5: "25c81989df183df01b3e8a0aad5dffbe",
        },
        Remote {
            file: "t10k-images-idx3-ubyte.gz",
            md5: "bef4ecab320f06d8554ea6380940ec79",
        },
        Remote {
            file: "t10k-labels-idx1-ubyte.gz",
            md5: "bb300cfdad3c16e7a12a480ee83fd310",
        },
    ];
    const CIFAR10: [Remote; 1] = [Remote {
        file: "cifar-10-binary.tar.gz",
        md5: "c32a1d4ab5d03f1284b67883e8d87530",
    }];
    match source {
        Source::Mnist => &MNIST,
        Source::FashionMnist => &FASHION,
        Source::Cifar10 => &CIFAR10,
    }
}

/// Downloads every file of `source` missing from `dir`, trying `mirrors` in order.
pub fn download(source: Source, dir: &Path, mirrors: &[String]) -> Result<()> {
    for remote in remotes(source) {
        let dest = dir.join(remote.file);
        if dest.is_file() {
            continue;
        }
        let urls: Vec<String> = mirrors.iter().map(|m| join_url(m, remote.file)).collect();
        fetch(&urls, &dest, remote.md5)?;
    }
    Ok(())
}

/// `base` and `file` joined with exactly one `/`.
fn join_url(base: &str, file: &str) -> String {
    format!("{}/{file}", base.trim_end_matches('/'))
}

/// Fetches the first of `urls` that answers with content of MD5 `md5` into `dest`.
/// Nothing is left at `dest` (or next to it) unless the checksum matched.
pub(crate) fn fetch(urls: &[String], dest: &Path, md5: &str) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut failures = Vec::new();
    for url in urls {
        match fetch_one(&agent, url, dest, md5) {
            Ok(()) => return Ok(()),
            Err(e) => {
                eprintln!("\n{url}: {e:#}; trying the next mirror");
                failures.push(format!("  {url}: {e:#}"));
            }
        }
    }
    bail!(
        "could not download {}:\n{}",
        dest.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        failures.join("\n")
    )
}

/// One attempt: stream `url` into a temporary file, check the MD5, rename.
fn fetch_one(agent: &ureq::Agent, url: &str, dest: &Path, md5: &str) -> Result<()> {
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url} failed"))?;
    let total = response.body().content_length();
    let mut reader = response.body_mut().as_reader();
    let name = dest
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    atomic::write_with(dest, |file| {
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut progress = Progress::new(&name, total);
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| anyhow!("the connection broke after {} bytes ({e})", progress.done))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])?;
            progress.add(n as u64);
        }
        progress.finish();
        let got = format!("{:x}", hasher.finalize());
        if got != md5 {
            bail!("checksum mismatch: MD5 {got}, expected {md5} (a damaged or different file)");
        }
        Ok(())
    })
}

/// A one-line progress display, redrawn with `\r`: works in a terminal and in Jupyter.
struct Progress<'a> {
    name: &'a str,
    total: Option<u64>,
    done: u64,
    shown: u64,
}

impl<'a> Progress<'a> {
    fn new(name: &'a str, total: Option<u64>) -> Self {
        Progress {
            name,
            total,
            done: 0,
            shown: 0,
        }
    }

    fn add(&mut self, n: u64) {
        self.done += n;
        if self.done - self.shown >= 1 << 20 {
            self.shown = self.done;
            self.draw();
        }
    }

    fn draw(&self) {
        let mb = |b: u64| b as f64 / 1e6;
        let line = match self.total {
            Some(t) if t > 0 => format!(
                "downloading {}: {:.1} / {:.1} MB ({:.0} %)",
                self.name,
                mb(self.done),
                mb(t),
                100.0 * self.done as f64 / t as f64
            ),
            _ => format!("downloading {}: {:.1} MB", self.name, mb(self.done)),
        };
        eprint!("\r{line}");
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        self.draw();
        eprintln!();
    }
}
