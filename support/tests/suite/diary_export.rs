//! The diary export writes each notebook's figures, tables and page, and a re-run
//! replaces that notebook's files while leaving the other notebooks' alone.

use polars::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;
use support::diary::{Diary, Entry};
use support::plot::Figure;

/// Every file under `root`, as paths relative to it.
fn files(root: &Path) -> BTreeSet<String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.insert(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn results() -> DataFrame {
    df!("model" => ["fmp", "lenet"], "error" => [0.0044, 0.0095]).unwrap()
}

#[test]
fn save_writes_png_and_svg_and_tables_write_csv_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let diary = Diary::begin_in(dir.path(), "502").unwrap();
    diary
        .save(&Figure::empty("History", "curves"), "history")
        .unwrap();
    diary.save_table(&results(), "results").unwrap();
    let expected = set(&[
        "502/history.png",
        "502/history.svg",
        "502/results.csv",
        "502/results.md",
    ]);
    assert_eq!(files(dir.path()), expected);
    let csv = std::fs::read_to_string(dir.path().join("502/results.csv")).unwrap();
    assert!(csv.starts_with("model,error\nfmp,0.0044"), "{csv}");
    let png = std::fs::read(dir.path().join("502/history.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a real PNG");
}

#[test]
fn re_export_replaces_the_notebooks_files_and_keeps_other_notebooks() {
    let dir = tempfile::tempdir().unwrap();
    let other = Diary::begin_in(dir.path(), "503").unwrap();
    other
        .save(&Figure::empty("LeNet", "curves"), "history")
        .unwrap();
    let first = Diary::begin_in(dir.path(), "502").unwrap();
    first.save(&Figure::empty("a", "a"), "history").unwrap();
    first.save(&Figure::empty("b", "b"), "regions").unwrap();
    first
        .entry(&Entry::new("FMP").figure("regions", "Regions"))
        .unwrap();

    let again = Diary::begin_in(dir.path(), "502").unwrap();
    again.save(&Figure::empty("a", "a"), "history").unwrap();
    again
        .entry(&Entry::new("FMP").figure("history", "History"))
        .unwrap();

    let expected = set(&[
        "502.md",
        "502/history.png",
        "502/history.svg",
        "503/history.png",
        "503/history.svg",
    ]);
    assert_eq!(files(dir.path()), expected);
}

#[test]
fn entry_page_links_figures_and_holds_tables_and_config() {
    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug only
    struct Config {
        epochs: usize,
        lr: f64,
    }
    let dir = tempfile::tempdir().unwrap();
    let diary = Diary::begin_in(dir.path(), "502").unwrap();
    diary
        .save(&Figure::empty("History", "curves"), "history")
        .unwrap();
    let page = Entry::new("FMP on MNIST")
        .text("Pseudorandom overlapping regions.")
        .figure("history", "Training curves")
        .table("Test error", &results())
        .config(
            "Configuration",
            &Config {
                epochs: 12,
                lr: 0.003,
            },
        );
    let path = diary.entry(&page).unwrap();
    let md = std::fs::read_to_string(path).unwrap();
    assert!(md.starts_with("# FMP on MNIST"), "{md}");
    assert!(md.contains("![Training curves](502/history.png)"), "{md}");
    assert!(md.contains("| fmp | 0.0044 |"), "{md}");
    assert!(md.contains("epochs: 12"), "{md}");
}

#[test]
fn entry_linking_an_unsaved_figure_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let diary = Diary::begin_in(dir.path(), "502").unwrap();
    let err = diary
        .entry(&Entry::new("x").figure("missing", "m"))
        .unwrap_err();
    assert!(err.to_string().contains("save it first"), "{err}");
    assert!(!diary.page().exists(), "no page is written on error");
}

#[test]
fn names_that_are_not_plain_file_names_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Diary::begin_in(dir.path(), "../escape").is_err());
    let diary = Diary::begin_in(dir.path(), "502").unwrap();
    let err = diary.save(&Figure::empty("a", "b"), "a/b").unwrap_err();
    assert!(err.to_string().contains("not a plain file name"), "{err}");
}

#[test]
fn diary_root_is_the_diary_folder_of_the_repository() {
    let root = support::diary::root().unwrap();
    match std::env::var_os("CNN_DIARY_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => assert_eq!(root, std::path::PathBuf::from(dir)),
        None => {
            assert!(root.ends_with("diary"), "{}", root.display());
            let manifest = root.parent().unwrap().join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            assert!(
                text.contains("[workspace]"),
                "{} is the workspace manifest",
                manifest.display()
            );
        }
    }
}
