//! Records which libtorch `support` is built against, and lets the `cnn` binary and the
//! tests find it at run time without `LD_LIBRARY_PATH` (an rpath to `$LIBTORCH/lib`).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let mut version = String::from("unknown (LIBTORCH not set at build time)");
    if let Ok(root) = std::env::var("LIBTORCH") {
        let lib = Path::new(&root).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        // PyPI's torch carries `version.py`; a libtorch zip carries `build-version`.
        let py = Path::new(&root).join("version.py");
        let zip = Path::new(&root).join("build-version");
        println!("cargo:rerun-if-changed={}", py.display());
        if let Ok(text) = std::fs::read_to_string(&py) {
            if let Some(v) = text.lines().find_map(|l| l.strip_prefix("__version__ = ")) {
                version = v.trim_matches(|c| c == '\'' || c == '"').to_string();
            }
        } else if let Ok(text) = std::fs::read_to_string(&zip) {
            version = text.trim().to_string();
        }
    }
    println!("cargo:rustc-env=CNN_LIBTORCH_VERSION={version}");
}
