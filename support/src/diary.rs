//! The learning diary: each notebook exports its figures, tables and a Markdown page that
//! a student pastes into their diary or links to.
//!
//! Layout, under the diary root (`$CNN_DIARY_DIR`, else `diary/` at the repository root):
//! ```text
//! diary/502.md              the page: text, figures, key tables, the run's config
//! diary/502/history.png     a figure (and history.svg)
//! diary/502/results.csv     a table (and results.md)
//! ```
//! A notebook builds one [`Entry`] holding its figures and tables, and `write("502",
//! &entry)` replaces the notebook's export: a re-run leaves only what it saved, and other
//! notebooks' files are never touched. Every file is written atomically (see
//! [`crate::atomic`]).

use crate::atomic;
use crate::plot::Figure;
use crate::show::table;
use anyhow::{Context, Result, bail};
use polars::prelude::{CsvWriter, DataFrame, SerWriter};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// The diary root: `$CNN_DIARY_DIR` when set, else `diary/` in the repository root
/// (found as [`crate::repo`] says).
pub fn root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CNN_DIARY_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let Some(repo) = crate::repo::root() else {
        bail!(
            "cannot find the repository (a folder holding support/Cargo.toml) above {}; \
             run inside the repository or set CNN_DIARY_DIR",
            std::env::current_dir().unwrap_or_default().display()
        );
    };
    Ok(repo.join("diary"))
}

/// Fails unless `name` is safe as one file name: letters, digits, `-`, `_`, `.`, not
/// starting with a dot (so no `..` and no path separators).
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!(
            "{kind} name `{name}` is not a plain file name; use letters, digits, '-', '_' or '.' (e.g. \"502\", \"history\")"
        );
    }
    Ok(())
}

/// Writes notebook `notebook`'s part of the diary under [`root`] from `page`: every figure
/// and table it holds, then the page. See [`write_in`].
pub fn write(notebook: &str, page: &Entry) -> Result<PathBuf> {
    write_in(&root()?, notebook, page)
}

/// Writes `<root>/<notebook>/` (each figure as PNG and SVG, each table as CSV and
/// Markdown) and the page `<root>/<notebook>.md`; returns the page's path.
///
/// The export replaces the notebook's previous one, so files an earlier run saved and
/// this one does not are gone; other notebooks' files stay. Every file is rendered before
/// anything is removed, so a figure that fails to render leaves the old export whole.
pub fn write_in(root: &Path, notebook: &str, page: &Entry) -> Result<PathBuf> {
    check_name("notebook", notebook)?;
    let folder = root.join(notebook);
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut md = format!("# {}\n\n_Notebook {notebook}_\n", page.title);
    for block in &page.blocks {
        md.push('\n');
        match block {
            Block::Text(text) => md.push_str(&format!("{}\n", text.trim_end())),
            Block::Figure {
                name,
                caption,
                figure,
            } => {
                check_name("figure", name)?;
                files.push((folder.join(format!("{name}.png")), figure.to_png()?));
                files.push((
                    folder.join(format!("{name}.svg")),
                    figure.to_svg()?.into_bytes(),
                ));
                md.push_str(&format!(
                    "![{caption}]({notebook}/{name}.png)\n\n_{caption}_ ([SVG]({notebook}/{name}.svg))\n"
                ));
            }
            Block::Table { name, caption, df } => {
                check_name("table", name)?;
                let markdown = table(df).to_markdown();
                let mut csv = Vec::new();
                CsvWriter::new(&mut csv)
                    .finish(&mut df.clone())
                    .with_context(|| format!("cannot write the table `{name}` as CSV"))?;
                files.push((folder.join(format!("{name}.csv")), csv));
                files.push((
                    folder.join(format!("{name}.md")),
                    markdown.clone().into_bytes(),
                ));
                md.push_str(&format!("**{caption}**\n\n{markdown}"));
            }
            Block::Config { caption, text } => {
                md.push_str(&format!("**{caption}**\n\n```text\n{text}\n```\n"));
            }
        }
    }
    let mut names: Vec<&PathBuf> = files.iter().map(|(path, _)| path).collect();
    names.sort();
    if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!(
            "the page saves two things as {}; give each figure and table its own name",
            twice[0].display()
        );
    }
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("cannot clear {} (is it open?)", folder.display()))?;
    }
    for (path, bytes) in &files {
        atomic::write(path, bytes)?;
    }
    let path = root.join(format!("{notebook}.md"));
    atomic::write(&path, md.as_bytes())?;
    Ok(path)
}

/// One part of a diary page.
#[derive(Clone)]
enum Block {
    Text(String),
    Figure {
        name: String,
        caption: String,
        figure: Figure,
    },
    Table {
        name: String,
        caption: String,
        df: DataFrame,
    },
    Config {
        caption: String,
        text: String,
    },
}

/// A diary page, built in reading order, holding what it shows:
/// `Entry::new("FMP on MNIST").text("...").figure("history", "Training curves", &figure)
/// .table("results", "Test error", &results).config("Configuration", &config)`.
#[derive(Clone)]
pub struct Entry {
    title: String,
    blocks: Vec<Block>,
}

impl Entry {
    /// An empty page with a title.
    pub fn new(title: &str) -> Entry {
        Entry {
            title: title.to_string(),
            blocks: Vec::new(),
        }
    }

    /// A paragraph of Markdown (what was tried, what it showed).
    pub fn text(mut self, markdown: &str) -> Entry {
        self.blocks.push(Block::Text(markdown.to_string()));
        self
    }

    /// A figure, saved as `<name>.png` and `<name>.svg` and shown with a caption.
    pub fn figure(mut self, name: &str, caption: &str, figure: &Figure) -> Entry {
        self.blocks.push(Block::Figure {
            name: name.to_string(),
            caption: caption.to_string(),
            figure: figure.clone(),
        });
        self
    }

    /// A table, saved as `<name>.csv` and `<name>.md` and written into the page.
    pub fn table(mut self, name: &str, caption: &str, df: &DataFrame) -> Entry {
        self.blocks.push(Block::Table {
            name: name.to_string(),
            caption: caption.to_string(),
            df: df.clone(),
        });
        self
    }

    /// The run's configuration (any config struct: it is printed with `{:#?}`), so the
    /// page says exactly what produced its numbers.
    pub fn config(mut self, caption: &str, config: &impl Debug) -> Entry {
        self.blocks.push(Block::Config {
            caption: caption.to_string(),
            text: format!("{config:#?}"),
        });
        self
    }
}
