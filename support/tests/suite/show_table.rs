//! A DataFrame shows as an escaped, right-aligned HTML table, as plain text, and as a
//! Markdown table, each with the DataFrame's shape.

use polars::prelude::*;
use support::show::table;

fn frame() -> DataFrame {
    df!(
        "model" => ["<b>fmp</b> & co", "lenet \"5\"", "fc|nn"],
        "accuracy" => [0.99512, 0.989, 0.979],
        "parameters" => [1_236_000i64, 61_706, 266_610]
    )
    .expect("a valid frame")
}

#[test]
fn html_table_escapes_angle_brackets_and_ampersands() {
    let html = table(&frame()).to_html();
    assert!(html.contains("&lt;b&gt;fmp&lt;/b&gt; &amp; co"), "{html}");
    assert!(html.contains("lenet &quot;5&quot;"), "{html}");
    assert!(
        !html.contains("<b>"),
        "raw markup must not pass through: {html}"
    );
}

#[test]
fn html_table_has_one_row_per_record_and_one_cell_per_column() {
    let df = frame();
    let html = table(&df).to_html();
    let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    let rows: Vec<&str> = body.matches("<tr>").collect();
    assert_eq!(rows.len(), df.height());
    assert_eq!(body.matches("<td").count(), df.height() * df.width());
    assert_eq!(html.matches("<th style").count(), df.width());
}

#[test]
fn html_table_right_aligns_numbers_and_left_aligns_text() {
    let html = table(&frame()).to_html();
    assert!(
        html.contains("<td style=\"text-align:right\">0.9951</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td style=\"text-align:right\">61706</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td style=\"text-align:left\">fc|nn</td>"),
        "{html}"
    );
}

#[test]
fn long_html_tables_elide_the_middle_rows() {
    let df = df!("i" => (0..100i64).collect::<Vec<_>>()).unwrap();
    let html = table(&df).to_html();
    assert!(html.contains("65 more rows"), "{html}");
    assert!(
        html.contains(">99<") && html.contains(">0<"),
        "first and last rows stay"
    );
}

#[test]
fn plain_text_is_the_frame_as_polars_prints_it() {
    let df = frame();
    assert_eq!(table(&df).to_text(), df.to_string());
}

#[test]
fn markdown_table_escapes_pipes_and_aligns_numbers() {
    let md = table(&frame()).to_markdown();
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines.len(),
        2 + 3,
        "header, rule and one line per row:\n{md}"
    );
    assert_eq!(lines[1], "| --- | ---: | ---: |");
    assert!(md.contains("fc\\|nn"), "{md}");
}

#[test]
fn evcxr_display_is_available_for_tables() {
    // The display hook prints; here it must simply run on a frame with nulls.
    let df = df!("x" => [Some(1.5), None]).unwrap();
    table(&df).evcxr_display();
}
