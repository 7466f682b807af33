//! Shared look of the figures: colours, text styles, titles and the "nothing to show" panel.

use super::{Area, Paint};
use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Line and bar colours, one per run or model (the "tab10" palette: distinct, and
/// readable for the common colour-vision deficiencies when paired with line styles).
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The colour of series `i` (cycles after eight).
pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Marks what is wrong: a misclassified sample, a pooling grid line.
pub(crate) const WRONG: RGBColor = RGBColor(214, 39, 40);
/// Marks what is right: a correctly classified sample.
pub(crate) const RIGHT: RGBColor = RGBColor(44, 140, 44);
/// Secondary text: captions, notes.
pub(crate) const GREY: RGBColor = RGBColor(90, 90, 90);

/// The embedded sans-serif font at `size` pixels.
pub(crate) fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// The embedded sans-serif font, bold, at `size` pixels.
pub(crate) fn bold(size: u32) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .style(FontStyle::Bold)
        .into()
}

/// `style` anchored at the given side of the text.
pub(crate) fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// Draws a figure's title, bold `size`, centred in the band of height `band` at its top.
pub(crate) fn title<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    band: u32,
    size: u32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (width, _) = area.dim_in_pixel();
    centered(area, text, (width as i32 / 2, band as i32 / 2), bold(size))
}

/// Draws `text` centred on `(x, y)`.
pub(crate) fn centered<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    (x, y): (i32, i32),
    style: TextStyle<'_>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if text.is_empty() {
        return Ok(());
    }
    let style = style.pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(text.to_string(), (x, y), style))?;
    Ok(())
}

/// Draws a bold title across the top of `area` and returns the area under it.
pub(crate) fn titled<DB: DrawingBackend>(area: &Area<DB>, title: &str) -> Result<Area<DB>>
where
    DB::ErrorType: 'static,
{
    if title.is_empty() {
        return Ok(area.clone());
    }
    Ok(area.titled(title, bold(18))?)
}

/// Shortens `text` to at most `max` characters, ending in an ellipsis when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A panel with a title and a message, for figures that have nothing to show.
pub(crate) struct Message {
    pub(crate) title: String,
    pub(crate) text: String,
}

impl Paint for Message {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let inner = titled(area, &self.title)?;
        let (w, h) = inner.dim_in_pixel();
        centered(
            &inner,
            &self.text,
            (w as i32 / 2, h as i32 / 2),
            font(15).color(&GREY),
        )
    }
}
