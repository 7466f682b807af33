//! Where a data set's files are looked for, and where they are downloaded to.
//!
//! A path the user names is the only place looked at: it is used or refused, never
//! swapped for another copy found elsewhere. Without one, the order is
//! `$CNN_DATA_DIR/<name>`, `<repo>/data/<name>`, and Debian's `/usr/share/datasets/<name>`
//! (the `dataset-fashion-mnist` package installs there). The repository is found as
//! [`crate::repo`] says.

use super::{Source, download};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// The environment variable naming a folder with one sub-folder per data set.
pub(crate) const DATA_DIR_ENV: &str = "CNN_DATA_DIR";
/// Where Debian's dataset packages install.
pub(crate) const SYSTEM_DIR: &str = "/usr/share/datasets";

/// One place to look, with the reason it is on the list (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The folder that should hold the data set's files.
    pub dir: PathBuf,
    /// Why it is searched (`$CNN_DATA_DIR`, `the repository`, ...), for messages.
    pub why: String,
}

/// Every place searched for `source`, in order. An explicit path is tried as given and
/// with the data set's name appended, and nothing else is.
pub(crate) fn places(source: Source, explicit: Option<&Path>) -> Vec<Place> {
    let name = source.name();
    if let Some(p) = explicit {
        return [p.to_path_buf(), p.join(name)]
            .into_iter()
            .map(|dir| Place {
                dir,
                why: "the path given".into(),
            })
            .collect();
    }
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        out.push(Place {
            dir: PathBuf::from(d).join(name),
            why: format!("${DATA_DIR_ENV}"),
        });
    }
    if let Some(root) = crate::repo::root() {
        out.push(Place {
            dir: root.join("data").join(name),
            why: "the repository".into(),
        });
    }
    out.push(Place {
        dir: Path::new(SYSTEM_DIR).join(name),
        why: "Debian's dataset packages".into(),
    });
    out
}

/// The first place holding a complete copy of `source`.
pub fn find(source: Source, explicit: Option<&Path>) -> Option<PathBuf> {
    places(source, explicit)
        .into_iter()
        .map(|p| p.dir)
        .find(|d| source.present_in(d))
}

/// Where a download goes: the explicit path, else `$CNN_DATA_DIR/<name>`, else
/// `<repo>/data/<name>`, else `data/<name>` under the working folder.
pub(crate) fn download_dir(source: Source, explicit: Option<&Path>) -> PathBuf {
    let name = source.name();
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join(name);
    }
    crate::repo::root()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("data")
        .join(name)
}

/// The folder holding `source`: found, or downloaded when `download` is true. When
/// neither works the error lists every place searched and which files to put where.
pub fn find_or_download(
    source: Source,
    explicit: Option<&Path>,
    download: bool,
) -> Result<PathBuf> {
    if let Some(dir) = find(source, explicit) {
        return Ok(dir);
    }
    let target = download_dir(source, explicit);
    let failure = if download {
        match download::download(source, &target, &download::mirrors(source)) {
            Ok(()) if source.present_in(&target) => return Ok(target),
            Ok(()) => "the download finished but the files are incomplete".to_string(),
            Err(e) => format!("{e:#}"),
        }
    } else {
        "downloading was switched off (set `LoadOpts { download: true, .. }`, or pass --download to `cnn data check`)".to_string()
    };
    let searched: Vec<String> = places(source, explicit)
        .iter()
        .map(|p| format!("  {} ({})", p.dir.display(), p.why))
        .collect();
    bail!(
        "{} not found. Searched:\n{}\nDownload: {failure}\nTo fix: put {} into {} \
         (or into ${DATA_DIR_ENV}/{}), from {}",
        source.name(),
        searched.join("\n"),
        source.expected_files(),
        target.display(),
        source.name(),
        download::mirrors(source).join(" or ")
    )
}
