//! Where the repository is: the one rule for every folder the course writes or reads by
//! default (`runs/`, `diary/`, `data/`, and `.venv/` and `bench/` for `cnn bench`).
//!
//! Notebooks run with their working folder in `notebooks/`, the CLI anywhere inside the
//! repository, so the root is looked for upwards from the working folder: the nearest
//! folder holding `support/Cargo.toml`. Outside the repository (a batch job started in
//! another folder), the repository this crate was built in is used, if it still exists.

use std::path::{Path, PathBuf};

fn is_root(dir: &Path) -> bool {
    dir.join("support").join("Cargo.toml").is_file()
}

/// The repository root, or `None` when neither the working folder nor the build's own
/// repository is inside one.
pub fn root() -> Option<PathBuf> {
    let from_cwd = std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.ancestors().find(|d| is_root(d)).map(Path::to_path_buf));
    from_cwd.or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .filter(|d| is_root(d))
            .map(Path::to_path_buf)
    })
}
