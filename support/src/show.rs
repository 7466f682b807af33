//! Tables inline: a DataFrame as an HTML table in JupyterLab, as plain text in a
//! terminal, and as a Markdown table in the learning diary.
//!
//! `table(&df)` as the last expression of a cell shows it. evcxr keeps one output per
//! MIME type, so the table sends both `text/html` (JupyterLab shows it) and `text/plain`
//! (what a terminal or a text-only client shows).

use polars::prelude::*;
use std::fmt;

/// Rows shown inline before the middle is elided (the diary's Markdown keeps all rows).
const MAX_INLINE_ROWS: usize = 40;
/// With more rows than that: the first and last rows shown.
const HEAD_ROWS: usize = 30;
const TAIL_ROWS: usize = 5;

/// A DataFrame ready to show: see [`table`].
/// (`Debug` because evcxr requires it of a cell's value, even one it shows through
/// `evcxr_display`.)
#[derive(Clone, Debug)]
pub struct Table {
    df: DataFrame,
}

/// Wraps a DataFrame so that it shows as a table: HTML with text escaped and numbers
/// right-aligned in JupyterLab, plain text in a terminal, Markdown for the diary.
pub fn table(df: &DataFrame) -> Table {
    Table { df: df.clone() }
}

/// One cell as text: nulls empty, floats with at most 4 decimals (or in scientific
/// notation when very large or small), text without quotes.
fn cell_text(value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(v) => float_text(*v),
        AnyValue::Float32(v) => float_text(f64::from(*v)),
        other => other.to_string(),
    }
}

fn float_text(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        return format!("{v:.3e}");
    }
    let fixed = format!("{v:.4}");
    let trimmed = fixed.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    }
}

/// `1,256,080`: a count with thousands separators, as the course's tables write counts.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Escapes text for HTML content and attributes.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown table cell (pipes, HTML, line breaks).
fn escape_markdown(text: &str) -> String {
    escape_html(text)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

impl Table {
    /// The row indices shown inline, `None` marking the elided middle.
    fn inline_rows(&self) -> Vec<Option<usize>> {
        let n = self.df.height();
        if n <= MAX_INLINE_ROWS {
            return (0..n).map(Some).collect();
        }
        let head = (0..HEAD_ROWS).map(Some);
        let tail = (n - TAIL_ROWS..n).map(Some);
        head.chain(std::iter::once(None)).chain(tail).collect()
    }

    /// The text of every cell of row `i`.
    fn row(&self, i: usize) -> Vec<String> {
        self.df
            .columns()
            .iter()
            .map(|c| c.get(i).map(|v| cell_text(&v)).unwrap_or_default())
            .collect()
    }

    /// Whether each column holds numbers (right-aligned).
    fn numeric(&self) -> Vec<bool> {
        let cols = self.df.columns().iter();
        cols.map(|c| c.dtype().is_primitive_numeric()).collect()
    }

    /// An HTML table: header with names and types, numbers right-aligned, all text
    /// escaped; long tables keep their first 30 and last 5 rows.
    pub fn to_html(&self) -> String {
        let align = |numeric: bool| if numeric { "right" } else { "left" };
        let numeric = self.numeric();
        let mut html = String::from("<table class=\"cnn-table\">\n<thead><tr>");
        for (c, &num) in self.df.columns().iter().zip(&numeric) {
            html.push_str(&format!(
                "<th style=\"text-align:{}\">{}<br><small>{}</small></th>",
                align(num),
                escape_html(c.name()),
                escape_html(&c.dtype().to_string())
            ));
        }
        html.push_str("</tr></thead>\n<tbody>\n");
        for row in self.inline_rows() {
            html.push_str("<tr>");
            match row {
                Some(i) => {
                    for (text, &num) in self.row(i).iter().zip(&numeric) {
                        let (a, t) = (align(num), escape_html(text));
                        html.push_str(&format!("<td style=\"text-align:{a}\">{t}</td>"));
                    }
                }
                None => {
                    let hidden = self.df.height() - HEAD_ROWS - TAIL_ROWS;
                    html.push_str(&format!(
                        "<td colspan=\"{}\" style=\"text-align:center\">… {hidden} more rows …</td>",
                        self.df.width().max(1)
                    ));
                }
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</tbody>\n</table>\n");
        html.push_str(&format!(
            "<p><small>{} rows × {} columns</small></p>\n",
            self.df.height(),
            self.df.width()
        ));
        html
    }

    /// Plain text, as polars prints a DataFrame (for terminals and text-only clients).
    pub fn to_text(&self) -> String {
        self.df.to_string()
    }

    /// A GitHub-flavoured Markdown table with every row, numbers right-aligned.
    pub fn to_markdown(&self) -> String {
        let names: Vec<String> = self
            .df
            .columns()
            .iter()
            .map(|c| escape_markdown(c.name()))
            .collect();
        let rule: Vec<&str> = self
            .numeric()
            .iter()
            .map(|&n| if n { "---:" } else { "---" })
            .collect();
        let mut md = format!("| {} |\n| {} |\n", names.join(" | "), rule.join(" | "));
        for i in 0..self.df.height() {
            let cells: Vec<String> = self.row(i).iter().map(|t| escape_markdown(t)).collect();
            md.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        md
    }

    /// evcxr's display hook: sends the HTML and the plain-text forms.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.to_html()
        );
        println!(
            "EVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT",
            self.to_text()
        );
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
