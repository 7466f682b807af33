//! The library's own code, shown in a notebook: `source::listing("fmp_sizes")?` as a
//! cell's last line shows the function as it is in `support/src/`, so that an exercise
//! that asks students to study the implementation can show it where they work.
//!
//! The files are embedded when the crate is built, so a listing is always the code that
//! runs. An item is found by the line that starts it and ends at the closing brace at
//! that line's indentation (the code is `cargo fmt`ed), with its doc comment above.

use crate::show::escape_html;
use anyhow::{Result, bail};

/// The items a notebook can show: a name, the file, and the text its first line starts
/// with (after indentation).
const ITEMS: [(&str, &str, &str, &str); 5] = [
    (
        "fmp_sizes",
        "fmp/sizes.rs",
        include_str!("fmp/sizes.rs"),
        "pub fn fmp_sizes(",
    ),
    (
        "pad_to",
        "data/batches.rs",
        include_str!("data/batches.rs"),
        "pub fn pad_to(",
    ),
    (
        "FmpNet::layers",
        "models/fmp_net.rs",
        include_str!("models/fmp_net.rs"),
        "fn layers(&self) -> Vec<Layer<'_>> {",
    ),
    (
        "sweep",
        "train/evaluate.rs",
        include_str!("train/evaluate.rs"),
        "fn sweep(",
    ),
    (
        "predict_repeated",
        "train/evaluate.rs",
        include_str!("train/evaluate.rs"),
        "pub fn predict_repeated(",
    ),
];

/// A piece of the library's code, ready to show in a notebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// Where it is, e.g. `support/src/fmp/sizes.rs`.
    pub path: String,
    /// The code, doc comment included.
    pub code: String,
}

/// The item `name` (one of `fmp_sizes`, `pad_to`, `FmpNet::layers`, `sweep`,
/// `predict_repeated`) as it is in the library's source.
pub fn listing(name: &str) -> Result<Listing> {
    let Some((_, file, text, start)) = ITEMS.iter().find(|item| item.0 == name) else {
        let names: Vec<&str> = ITEMS.iter().map(|item| item.0).collect();
        bail!("no listing called {name:?}; the notebooks can show {names:?}");
    };
    let Some(code) = item_text(text, start) else {
        bail!("the listing {name} was not found in support/src/{file}; the crate has changed");
    };
    Ok(Listing {
        path: format!("support/src/{file}"),
        code,
    })
}

/// The lines of `text` from the doc comment above the line starting with `start` to the
/// closing brace at that line's indentation.
fn item_text(text: &str, start: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.trim_start().starts_with(start))?;
    let indent = &lines[first][..lines[first].len() - lines[first].trim_start().len()];
    let close = format!("{indent}}}");
    let last = first + lines[first..].iter().position(|l| *l == close)?;
    let mut top = first;
    while top > 0 && lines[top - 1].trim_start().starts_with("///") {
        top -= 1;
    }
    Some(lines[top..=last].join("\n"))
}

impl Listing {
    /// Shows the code with its path: HTML in JupyterLab, text elsewhere.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n<div><code>{}</code><pre>{}</pre></div>\nEVCXR_END_CONTENT",
            escape_html(&self.path),
            escape_html(&self.code)
        );
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

impl std::fmt::Display for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "// {}\n{}", self.path, self.code)
    }
}
