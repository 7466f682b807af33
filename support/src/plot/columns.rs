//! Reading the columns a figure needs out of a DataFrame, with errors that name them.

use anyhow::{Result, bail};
use polars::prelude::*;

/// The names of `df`'s columns, for error messages.
fn names(df: &DataFrame) -> String {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    names.join(", ")
}

/// A numeric column as `f64` values, `None` for nulls. `figure` names the figure in errors.
pub(crate) fn floats(df: &DataFrame, name: &str, figure: &str) -> Result<Vec<Option<f64>>> {
    let column = df.column(name).map_err(|_| {
        anyhow::anyhow!(
            "{figure} needs a column `{name}`, but the DataFrame has only: {}",
            names(df)
        )
    })?;
    if !column.dtype().is_primitive_numeric() {
        bail!(
            "{figure}: column `{name}` must be numeric, but it is {}",
            column.dtype()
        );
    }
    let column = column
        .cast(&DataType::Float64)
        .map_err(|e| anyhow::anyhow!("{figure}: cannot read column `{name}` as numbers: {e}"))?;
    Ok(column.f64()?.iter().collect())
}

/// A numeric column where a null counts as missing (`NaN`), for plotting.
pub(crate) fn floats_or_nan(df: &DataFrame, name: &str, figure: &str) -> Result<Vec<f64>> {
    Ok(floats(df, name, figure)?
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// An optional numeric column: all `NaN` when it is absent (a run without validation).
pub(crate) fn optional_floats(df: &DataFrame, name: &str, figure: &str) -> Result<Vec<f64>> {
    if df.column(name).is_err() {
        return Ok(vec![f64::NAN; df.height()]);
    }
    floats_or_nan(df, name, figure)
}

/// A text column; nulls become empty strings.
pub(crate) fn strings(df: &DataFrame, name: &str, figure: &str) -> Result<Vec<String>> {
    let column = df.column(name).map_err(|_| {
        anyhow::anyhow!(
            "{figure} needs a text column `{name}`, but the DataFrame has only: {}",
            names(df)
        )
    })?;
    let column = column
        .cast(&DataType::String)
        .map_err(|e| anyhow::anyhow!("{figure}: cannot read column `{name}` as text: {e}"))?;
    Ok(column
        .str()?
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

/// Fails clearly when `df` has no rows.
pub(crate) fn require_rows(df: &DataFrame, figure: &str) -> Result<()> {
    if df.height() == 0 {
        bail!("{figure}: the DataFrame has no rows, so there is nothing to draw");
    }
    Ok(())
}
