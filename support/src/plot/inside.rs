//! What a trained net sees: a layer's feature maps, every layer's maps for one image, and
//! a convolution's learned filters.

use super::canvas::{self, GREY, bold, font, shorten};
use super::images::{Cell, grid};
use super::pixels::{self, Picture, Tone};
use super::{Area, Figure, Paint};
use crate::models::Model;
use crate::models::summary::{model_device, trace};
use anyhow::{Result, bail, ensure};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use tch::Tensor;

/// The most maps or filters one figure draws; more would be unreadable.
const MAX_SHOWN: usize = 64;

/// The first `channels` maps (at most 64) of one image's activations, `[C, H, W]` or
/// `[1, C, H, W]`, each stretched to its own range and coloured with viridis (bright =
/// strong). For a net of your own: `feature_maps("C1", &x.apply(&net.c1).relu(), 8)`.
pub fn feature_maps(title: &str, maps: &Tensor, channels: usize) -> Result<Figure> {
    ensure!(
        channels > 0,
        "feature_maps: channels = 0 draws nothing; ask for 1 or more maps"
    );
    let pictures = pixels::channel_pictures(maps, "feature_maps: maps")?;
    let total = pictures.len();
    let cells: Vec<Cell> = pictures
        .into_iter()
        .take(channels.min(MAX_SHOWN))
        .enumerate()
        .map(|(i, picture)| Cell::new(picture, Tone::Viridis, format!("channel {i}")))
        .collect();
    let title = if total > cells.len() {
        format!("{title} (first {} of {total} channels)", cells.len())
    } else {
        format!("{title} ({total} channels)")
    };
    Ok(grid(title, cells, 72))
}

/// A convolution's learned filters, `[out, in, k, k]` (`conv.ws`), one per output channel
/// (at most 64), each its first input channel's `k x k` weights. All share one symmetric
/// scale, red positive, blue negative, white zero, so that the sign and the strength of
/// every weight compare across filters.
pub fn filters(title: &str, weights: &Tensor) -> Result<Figure> {
    let shape = weights.size();
    let [out, inputs, kh, kw] = shape[..] else {
        bail!(
            "filters: pass a convolution's weights [out, in, k, k] (its ws), got shape {shape:?}"
        );
    };
    ensure!(
        out > 0 && inputs > 0 && kh > 0 && kw > 0,
        "filters: the weights {shape:?} hold no filter"
    );
    let shown = out.min(MAX_SHOWN as i64);
    let first_input = weights.select(1, 0).narrow(0, 0, shown);
    let pictures = pixels::signed_pictures(&first_input, "filters: weights")?;
    let cells = pictures
        .into_iter()
        .enumerate()
        .map(|(i, picture)| Cell::new(picture, Tone::Diverging, format!("filter {i}")))
        .collect();
    let which = if inputs > 1 {
        format!(", input channel 0 of {inputs}")
    } else {
        String::new()
    };
    let count = if shown < out {
        format!("first {shown} of {out}")
    } else {
        out.to_string()
    };
    let title = format!("{title} ({count} of {kh}x{kw}{which}; red +, blue -)");
    Ok(grid(title, cells, 72))
}

/// Every layer's feature maps for one image: the model runs layer by layer (its
/// [`Model::layers`]) in evaluation mode without gradients, and each layer whose output
/// is a grid of maps (`[1, C, H, W]` with H and W above 1) gets a row of its first
/// `channels` maps, headed by the layer's name and size.
///
/// `image` is one image as the model takes it, `[C, H, W]` or `[1, C, H, W]`, floats
/// normalised as in training: `data.test.batch_of_one(0, &model.batch_opts(&data, 1,
/// device))?`. A net of your own ([`crate::models::OwnNet`]) is one layer to the
/// library, so this draws nothing for it: draw its layers' maps with [`feature_maps`].
pub fn activations(model: &dyn Model, image: &Tensor, channels: usize) -> Result<Figure> {
    ensure!(
        channels > 0,
        "activations: channels = 0 draws nothing; ask for 1 or more maps per layer"
    );
    ensure!(
        image.is_floating_point(),
        "activations: the image is {:?}; pass it as the model takes it, floats normalised as \
         in training: data.test.batch_of_one(0, &model.batch_opts(&data, 1, device))?",
        image.kind()
    );
    let input = match image.size()[..] {
        [_, _, _] => image.unsqueeze(0),
        [1, _, _, _] => image.shallow_clone(),
        _ => bail!(
            "activations: pass one image, [C, H, W] or [1, C, H, W], got shape {:?}",
            image.size()
        ),
    };
    let input = input.to_device(model_device(model));
    let mut rows = Vec::new();
    let mut names = Vec::new();
    let _output = trace(model, &input, |layer, _, y| {
        names.push(layer.name.clone());
        match y.size()[..] {
            [1, c, h, w] if h > 1 && w > 1 => {
                let maps = if c == 1 { "map" } else { "maps" };
                let heading = format!("{}: {c} {maps} of {h}x{w}", layer.name);
                rows.push((heading, y.shallow_clone()));
            }
            _ => {}
        }
    })?;
    if rows.is_empty() {
        bail!(
            "activations: no layer of this model gives feature maps; its layers are: {}. A \
             net of your own (OwnNet) is one layer to the library, its whole forward_t, so \
             the library cannot see inside it: draw each layer's maps yourself with \
             plot::feature_maps(title, &maps, channels), e.g. the maps of \
             x.apply(&model.net().c1).relu()",
            names.join("; ")
        );
    }
    let rows = rows
        .into_iter()
        .map(|(heading, y)| {
            let pictures = pixels::channel_pictures(&y, &heading)?;
            let shown = pictures.into_iter().take(channels.min(MAX_SHOWN)).collect();
            Ok((heading, shown))
        })
        .collect::<Result<Vec<_>>>()?;
    let figure = MapRows { rows };
    let (width, height) = figure.size();
    Ok(Figure::new(width, height, figure))
}

/// Rows of maps, each under a heading: the painter of [`activations`].
struct MapRows {
    rows: Vec<(String, Vec<Picture>)>,
}

const TITLE_H: u32 = 36;
const HEAD_H: u32 = 22;
const MAP_BOX: u32 = 72;
const MAP_CELL: u32 = 84;
const ROW_H: u32 = HEAD_H + MAP_BOX + 20;
const HEADING_CHARS: usize = 100;

impl MapRows {
    fn size(&self) -> (u32, u32) {
        let maps = self.rows.iter().map(|(_, m)| m.len()).max().unwrap_or(1) as u32;
        let chars = self.rows.iter().map(|(h, _)| h.chars().count()).max();
        let text = chars.unwrap_or(0).min(HEADING_CHARS) as u32 * 7;
        let width = (maps * MAP_CELL).max(text).max(400) + 16;
        (width, TITLE_H + self.rows.len() as u32 * ROW_H + 8)
    }
}

impl Paint for MapRows {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let title = "Every layer's feature maps for one image";
        canvas::title(area, title, TITLE_H, 17)?;
        let heading = canvas::anchored(bold(12), HPos::Left, VPos::Center);
        for (r, (name, maps)) in self.rows.iter().enumerate() {
            let y = (TITLE_H + r as u32 * ROW_H) as i32;
            let text = shorten(name, HEADING_CHARS);
            area.draw(&Text::new(
                text,
                (8, y + HEAD_H as i32 / 2),
                heading.clone(),
            ))?;
            for (c, map) in maps.iter().enumerate() {
                let x = 8 + (c as u32 * MAP_CELL) as i32;
                let corner = (x + ((MAP_CELL - MAP_BOX) / 2) as i32, y + HEAD_H as i32);
                pixels::draw_picture(area, map, corner, (MAP_BOX, MAP_BOX), Tone::Viridis)?;
                let at = (x + MAP_CELL as i32 / 2, y + (HEAD_H + MAP_BOX) as i32 + 10);
                canvas::centered(area, &format!("channel {c}"), at, font(11).color(&GREY))?;
            }
        }
        Ok(())
    }
}
