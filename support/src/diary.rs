//! The learning diary: each notebook exports its figures, tables and a Markdown page that
//! a student pastes into their diary or links to.
//!
//! Layout, under the diary root (`$CNN_DIARY_DIR`, else `diary/` at the repository root):
//! ```text
//! diary/502.md              the page: text, figures, key tables, the run's config
//! diary/502/history.png     a figure (and history.svg)
//! diary/502/results.csv     a table (and results.md)
//! ```
//! `begin("502")` starts a notebook's export afresh: it removes `diary/502/` and
//! `diary/502.md`, so a re-run leaves only what it saved, and other notebooks' files are
//! never touched. Every file is written atomically (see [`crate::atomic`]).

use crate::atomic;
use crate::plot::Figure;
use crate::show::table;
use anyhow::{Context, Result, bail};
use polars::prelude::{CsvWriter, DataFrame, SerWriter};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// The diary root: `$CNN_DIARY_DIR` when set, else `diary/` in the repository root (the
/// nearest folder, from the current one upwards, whose `Cargo.toml` has `[workspace]`;
/// notebooks run in `notebooks/`).
pub fn root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CNN_DIARY_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    for dir in cwd.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let is_workspace = std::fs::read_to_string(&manifest)
            .map(|text| text.lines().any(|l| l.trim() == "[workspace]"))
            .unwrap_or(false);
        if is_workspace {
            return Ok(dir.join("diary"));
        }
    }
    bail!(
        "cannot find the repository root (a Cargo.toml with [workspace]) above {}; run inside the repository or set CNN_DIARY_DIR",
        cwd.display()
    )
}

/// Fails unless `name` is safe as one file name: letters, digits, `-`, `_`, `.`, not
/// starting with a dot (so no `..` and no path separators).
fn check_name(kind: &str, name: &str) -> Result<()> {
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

/// One notebook's part of the diary: where its files go.
#[derive(Debug, Clone)]
pub struct Diary {
    root: PathBuf,
    notebook: String,
}

/// Starts notebook `notebook`'s export afresh under [`root`]: see [`Diary::begin_in`].
pub fn begin(notebook: &str) -> Result<Diary> {
    Diary::begin_in(&root()?, notebook)
}

/// Saves a figure for `notebook` without clearing its earlier files: see [`Diary::save`].
pub fn save(figure: &Figure, notebook: &str, name: &str) -> Result<Vec<PathBuf>> {
    Diary::open_in(&root()?, notebook)?.save(figure, name)
}

/// Saves a table for `notebook` without clearing its earlier files: see
/// [`Diary::save_table`].
pub fn save_table(df: &DataFrame, notebook: &str, name: &str) -> Result<Vec<PathBuf>> {
    Diary::open_in(&root()?, notebook)?.save_table(df, name)
}

/// Writes (or replaces) `notebook`'s page: see [`Diary::entry`].
pub fn entry(notebook: &str, page: &Entry) -> Result<PathBuf> {
    Diary::open_in(&root()?, notebook)?.entry(page)
}

impl Diary {
    /// Notebook `notebook`'s diary under `root`, keeping what is already there.
    pub fn open_in(root: &Path, notebook: &str) -> Result<Diary> {
        check_name("notebook", notebook)?;
        Ok(Diary {
            root: root.to_path_buf(),
            notebook: notebook.to_string(),
        })
    }

    /// Notebook `notebook`'s diary under `root`, started afresh: removes its folder and
    /// its page, so files a previous run saved and this one does not are gone. Other
    /// notebooks' files stay.
    pub fn begin_in(root: &Path, notebook: &str) -> Result<Diary> {
        let diary = Diary::open_in(root, notebook)?;
        let folder = diary.folder();
        if folder.exists() {
            std::fs::remove_dir_all(&folder)
                .with_context(|| format!("cannot clear {} (is it open?)", folder.display()))?;
        }
        let page = diary.page();
        if page.exists() {
            std::fs::remove_file(&page)
                .with_context(|| format!("cannot remove the old page {}", page.display()))?;
        }
        Ok(diary)
    }

    /// The folder of this notebook's files: `<root>/<notebook>/`.
    pub fn folder(&self) -> PathBuf {
        self.root.join(&self.notebook)
    }

    /// This notebook's page: `<root>/<notebook>.md`.
    pub fn page(&self) -> PathBuf {
        self.root.join(format!("{}.md", self.notebook))
    }

    /// Writes `figure` as `<name>.png` and `<name>.svg`; returns the two paths.
    pub fn save(&self, figure: &Figure, name: &str) -> Result<Vec<PathBuf>> {
        check_name("figure", name)?;
        let png = self.folder().join(format!("{name}.png"));
        let svg = self.folder().join(format!("{name}.svg"));
        atomic::write(&png, &figure.to_png()?)?;
        atomic::write(&svg, figure.to_svg()?.as_bytes())?;
        Ok(vec![png, svg])
    }

    /// Writes `df` as `<name>.csv` and `<name>.md` (a Markdown table); returns the paths.
    pub fn save_table(&self, df: &DataFrame, name: &str) -> Result<Vec<PathBuf>> {
        check_name("table", name)?;
        let csv = self.folder().join(format!("{name}.csv"));
        let md = self.folder().join(format!("{name}.md"));
        atomic::write_with(&csv, |file| {
            CsvWriter::new(file)
                .finish(&mut df.clone())
                .with_context(|| format!("cannot write the table `{name}` as CSV"))
        })?;
        atomic::write(&md, table(df).to_markdown().as_bytes())?;
        Ok(vec![csv, md])
    }

    /// Writes (or replaces) `<root>/<notebook>.md` from `page`. Figures are linked
    /// relative to the page, so the diary folder can be moved as a whole; each linked
    /// figure must have been saved already.
    pub fn entry(&self, page: &Entry) -> Result<PathBuf> {
        let mut md = format!("# {}\n\n_Notebook {}_\n", page.title, self.notebook);
        for block in &page.blocks {
            md.push('\n');
            match block {
                Block::Text(text) => md.push_str(&format!("{}\n", text.trim_end())),
                Block::Figure { name, caption } => {
                    check_name("figure", name)?;
                    let png = self.folder().join(format!("{name}.png"));
                    if !png.exists() {
                        bail!(
                            "the page links figure `{name}`, but {} does not exist; save it first with diary.save(&figure, \"{name}\")",
                            png.display()
                        );
                    }
                    let nb = &self.notebook;
                    md.push_str(&format!(
                        "![{caption}]({nb}/{name}.png)\n\n_{caption}_ ([SVG]({nb}/{name}.svg))\n"
                    ));
                }
                Block::Table { caption, markdown } => {
                    md.push_str(&format!("**{caption}**\n\n{markdown}"));
                }
                Block::Config { caption, text } => {
                    md.push_str(&format!("**{caption}**\n\n```text\n{text}\n```\n"));
                }
            }
        }
        let path = self.page();
        atomic::write(&path, md.as_bytes())?;
        Ok(path)
    }
}

/// One part of a diary page.
#[derive(Debug, Clone)]
enum Block {
    Text(String),
    Figure { name: String, caption: String },
    Table { caption: String, markdown: String },
    Config { caption: String, text: String },
}

/// A diary page, built in reading order:
/// `Entry::new("FMP on MNIST").text("...").figure("history", "Training curves")
/// .table("Test error", &results).config("Configuration", &config)`.
#[derive(Debug, Clone)]
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

    /// A saved figure, by the name it was saved under, with a caption.
    pub fn figure(mut self, name: &str, caption: &str) -> Entry {
        self.blocks.push(Block::Figure {
            name: name.to_string(),
            caption: caption.to_string(),
        });
        self
    }

    /// A table of key metrics, written into the page as Markdown.
    pub fn table(mut self, caption: &str, df: &DataFrame) -> Entry {
        self.blocks.push(Block::Table {
            caption: caption.to_string(),
            markdown: table(df).to_markdown(),
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
