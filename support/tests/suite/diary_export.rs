//! The diary export writes each notebook's figures, tables and page, and a re-run
//! replaces that notebook's files while leaving the other notebooks' alone.

use polars::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;
use support::diary::{Entry, write_in};
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
fn figures_write_png_and_svg_and_tables_write_csv_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let page = Entry::new("FMP")
        .figure("history", "Training", &Figure::empty("History", "curves"))
        .table("results", "Results", &results());
    write_in(dir.path(), "502", &page).unwrap();
    let expected = set(&[
        "502.md",
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
    let curves = Figure::empty("LeNet", "curves");
    write_in(
        dir.path(),
        "503",
        &Entry::new("LeNet").figure("history", "History", &curves),
    )
    .unwrap();
    let first = Entry::new("FMP")
        .figure("history", "History", &Figure::empty("a", "a"))
        .figure("regions", "Regions", &Figure::empty("b", "b"));
    write_in(dir.path(), "502", &first).unwrap();
    let again = Entry::new("FMP").figure("history", "History", &Figure::empty("a", "a"));
    write_in(dir.path(), "502", &again).unwrap();
    let expected = set(&[
        "502.md",
        "502/history.png",
        "502/history.svg",
        "503.md",
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
    let page = Entry::new("FMP on MNIST")
        .text("Pseudorandom overlapping regions.")
        .figure(
            "history",
            "Training curves",
            &Figure::empty("History", "curves"),
        )
        .table("results", "Test error", &results())
        .config(
            "Configuration",
            &Config {
                epochs: 12,
                lr: 0.003,
            },
        );
    let path = write_in(dir.path(), "502", &page).unwrap();
    let md = std::fs::read_to_string(path).unwrap();
    assert!(md.starts_with("# FMP on MNIST"), "{md}");
    assert!(md.contains("![Training curves](502/history.png)"), "{md}");
    assert!(md.contains("| fmp | 0.0044 |"), "{md}");
    assert!(md.contains("epochs: 12"), "{md}");
}

#[test]
fn two_things_saved_under_one_name_are_a_clear_error_and_keep_the_old_export() {
    let dir = tempfile::tempdir().unwrap();
    let old = Entry::new("old").table("results", "Results", &results());
    write_in(dir.path(), "502", &old).unwrap();
    let clash = Entry::new("x")
        .table("results", "a", &results())
        .table("results", "b", &results());
    let err = write_in(dir.path(), "502", &clash).unwrap_err();
    assert!(err.to_string().contains("its own name"), "{err}");
    let md = std::fs::read_to_string(dir.path().join("502.md")).unwrap();
    assert!(md.starts_with("# old"), "the old page stays: {md}");
    assert!(dir.path().join("502/results.csv").exists());
}

#[test]
fn names_that_are_not_plain_file_names_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    assert!(write_in(dir.path(), "../escape", &Entry::new("x")).is_err());
    let page = Entry::new("x").figure("a/b", "c", &Figure::empty("a", "b"));
    let err = write_in(dir.path(), "502", &page).unwrap_err();
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
