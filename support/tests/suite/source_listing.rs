//! The library's code shown in a notebook: every listing is found whole.

use support::source::listing;

#[test]
fn every_listing_is_a_whole_item_with_its_doc_comment() {
    for name in [
        "fmp_sizes",
        "pad_to",
        "FmpNet::layers",
        "sweep",
        "predict_repeated",
    ] {
        let l = listing(name).unwrap();
        let lines: Vec<&str> = l.code.lines().collect();
        let first = lines[0].trim_start();
        assert!(
            first.starts_with("///"),
            "{name} starts without its doc comment: {first}"
        );
        assert_eq!(
            lines.last().map(|l| l.trim()),
            Some("}"),
            "{name} is cut short"
        );
        assert!(l.path.starts_with("support/src/"), "{}", l.path);
    }
}

#[test]
fn the_size_listing_shows_grahams_rounding() {
    let l = listing("fmp_sizes").unwrap();
    assert!(l.code.contains("side as f64 * alpha + 0.5"), "{}", l.code);
}

#[test]
fn an_unknown_listing_names_the_known_ones() {
    let err = listing("fmp_size").unwrap_err().to_string();
    assert!(
        err.contains("\"fmp_sizes\"") && err.contains("\"pad_to\""),
        "{err}"
    );
}
