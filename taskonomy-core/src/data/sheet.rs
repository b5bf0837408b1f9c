//! Contact sheets: one view's RGB and every task's label side by side, captioned, colour-mapped where a
//! label is not an image, so a person can check a dataset at a glance, for any dictionary.

use std::path::Path;

use super::dataset::{Dataset, SampleRef};
use super::labels::Labels;
use super::layout::{encode_png, PngPixels, ViewKey};
use super::Error;
use crate::spec::{Sampling, TaskSet, TaskSpec};

/// An RGB image being drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    /// Width (pixels).
    pub width: usize,
    /// Height (pixels).
    pub height: usize,
    /// Row-major pixels.
    pub pixels: Vec<[u8; 3]>,
}

impl Canvas {
    /// A canvas filled with `colour`.
    pub fn new(width: usize, height: usize, colour: [u8; 3]) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![colour; width * height],
        }
    }

    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = c;
        }
    }

    /// Draws `tile` (`size × size`) magnified `scale` times with its top-left at `(x, y)`.
    fn blit(&mut self, x: usize, y: usize, size: usize, scale: usize, tile: &[[u8; 3]]) {
        for ty in 0..size * scale {
            for tx in 0..size * scale {
                self.set(
                    (x + tx) as i64,
                    (y + ty) as i64,
                    tile[(ty / scale) * size + tx / scale],
                );
            }
        }
    }

    /// Text in a 5×7 bitmap font (upper case; unknown characters are blank), top-left at `(x, y)`.
    pub fn text(&mut self, x: usize, y: usize, text: &str, c: [u8; 3]) {
        for (k, ch) in text.chars().enumerate() {
            let rows = glyph(ch);
            for (r, bits) in rows.iter().enumerate() {
                for b in 0..5 {
                    if bits & (0x10 >> b) != 0 {
                        self.set((x + 6 * k + b) as i64, (y + r) as i64, c);
                    }
                }
            }
        }
    }

    /// Writes the canvas as an 8-bit RGB PNG.
    pub fn write_png(&self, path: &Path) -> Result<(), Error> {
        let bytes = encode_png(
            self.width,
            self.height,
            PngPixels::Rgb8(&self.pixels.concat()),
        )
        .map_err(|source| Error::PngEncode {
            path: path.to_path_buf(),
            source,
        })?;
        super::layout::write_atomic(path, &bytes)
    }
}

/// Rows of a 5×7 glyph, bit 4 leftmost.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        '_' => [0, 0, 0, 0, 0, 0, 0x1F],
        '=' => [0, 0, 0x1F, 0, 0x1F, 0, 0],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '/' => [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '+' => [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        '>' => [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
        _ => [0; 7],
    }
}

/// A perceptual blue–green–yellow colour map (control points of viridis), `t` in `[0, 1]`.
pub fn colour_map(t: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let x = t.clamp(0.0, 1.0) * 4.0;
    let i = (x as usize).min(3);
    let f = x - i as f32;
    [0, 1, 2].map(|c| (STOPS[i][c] + (STOPS[i + 1][c] - STOPS[i][c]) * f) as u8)
}

/// A distinct colour for an id (segments, classes).
pub fn id_colour(id: u32) -> [u8; 3] {
    let h = super::rng::mix64(u64::from(id) + 0x51);
    [
        (h & 0xff) as u8 / 2 + 64,
        ((h >> 8) & 0xff) as u8 / 2 + 64,
        ((h >> 16) & 0xff) as u8 / 2 + 64,
    ]
}

/// What one tile of a contact sheet shows: a picture with a caption, and lines of text over it.
struct Tile {
    caption: String,
    pixels: Vec<[u8; 3]>,
    text: Vec<String>,
}

/// The contact sheet of one view: its RGB image, then a captioned tile per task of `tasks` with the task's
/// label (and, for a task that alters its input, the input). Per-pixel labels are drawn (a colour map
/// with its range, normals and images as colours, ids as distinct colours); image-level labels are
/// written out; a multi-view task shows the view it is paired with and its label.
pub fn contact_sheet(
    dataset: &Dataset,
    tasks: &TaskSet,
    building: &str,
    key: ViewKey,
    seed: u64,
) -> Result<Canvas, Error> {
    let size = dataset.size;
    let index = dataset
        .buildings
        .iter()
        .position(|b| b.name == building)
        .ok_or_else(|| Error::Dataset {
            root: dataset.root.clone(),
            what: format!("expected a building named {building}"),
        })?;
    let rgb = dataset.read_rgb(index, key)?.to_srgb8();
    let blank = vec![[24u8, 24, 24]; size * size];
    let mut tiles = vec![Tile {
        caption: "rgb".into(),
        pixels: rgb,
        text: Vec::new(),
    }];
    // Read once for every multi-view task, not once per task and view.
    let point = if tasks.tasks.iter().any(|t| t.spec.views > 1) {
        fixation_of_point(dataset, index, key.point)
    } else {
        Vec::new()
    };
    for task in &tasks.tasks {
        let name = task.spec.name;
        let unpaired = |text: &str| Tile {
            caption: name.into(),
            pixels: blank.clone(),
            text: vec![text.into()],
        };
        let sample = match partners(&point, key, &task.spec) {
            Partners::Views(views) => SampleRef {
                building: index,
                views,
            },
            Partners::TooFew => {
                tiles.push(unpaired("no views to pair"));
                continue;
            }
            // The unreadable record was logged when read.
            Partners::Unreadable => {
                tiles.push(unpaired("no label"));
                continue;
            }
        };
        let loaded = match dataset.load(task, &sample, seed) {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::warn!(task = name, "no label to show: {error}");
                tiles.push(Tile {
                    caption: name.into(),
                    pixels: blank.clone(),
                    text: vec!["no label".into()],
                });
                continue;
            }
        };
        // A task that alters its input shows what the network sees.
        if let Some(input) = loaded
            .derived
            .as_ref()
            .filter(|input| **input != loaded.views[0])
        {
            tiles.push(Tile {
                caption: format!("{name} in"),
                pixels: input.to_srgb8(),
                text: Vec::new(),
            });
        }
        let mut tile = label_tile(name, &loaded.labels, size, &blank);
        if let Some(partner) = loaded.views.get(1) {
            let others: Vec<String> = sample.views[1..]
                .iter()
                .map(|v| format!("v{}", v.view))
                .collect();
            tile.caption = format!("{name} v{}>{}", key.view, others.join(">"));
            tile.pixels = partner.to_srgb8();
        }
        tiles.push(tile);
    }

    let scale = 128usize.div_ceil(size).max(1);
    let (tile, caption, gap, cols) = (size * scale, 12, 6, 7);
    let rows = tiles.len().div_ceil(cols);
    let mut canvas = Canvas::new(
        cols * (tile + gap) + gap,
        rows * (tile + caption + gap) + gap + 14,
        [16, 16, 16],
    );
    canvas.text(
        gap,
        4,
        &format!("{building} point {} view {}", key.point, key.view),
        [255, 255, 255],
    );
    for (k, shown) in tiles.iter().enumerate() {
        let (x, y) = (
            gap + (k % cols) * (tile + gap),
            14 + gap + (k / cols) * (tile + caption + gap),
        );
        canvas.text(
            x,
            y,
            &shown.caption.chars().take(tile / 6).collect::<String>(),
            [230, 230, 230],
        );
        canvas.blit(x, y + caption, size, scale, &shown.pixels);
        for (r, line) in shown.text.iter().enumerate() {
            canvas.text(
                x + 3,
                y + caption + 4 + 10 * r,
                &line.chars().take((tile - 4) / 6).collect::<String>(),
                [255, 220, 120],
            );
        }
    }
    Ok(canvas)
}

/// Every view of `point` in `building`, in order, with whether its point-info record says it is fixated;
/// `None` for a record that cannot be read, which is logged here, naming the file.
fn fixation_of_point(
    dataset: &Dataset,
    building: usize,
    point: u32,
) -> Vec<(ViewKey, Option<bool>)> {
    dataset.buildings[building]
        .views
        .iter()
        .filter(|v| v.point == point)
        .map(|&v| match dataset.read_point_info(building, v) {
            Ok(info) => (v, Some(info.fixated)),
            Err(error) => {
                tracing::warn!("cannot tell which views to pair for the contact sheet: {error}");
                (v, None)
            }
        })
        .collect()
}

/// The views a contact sheet shows for a task, or why it shows none.
#[derive(Clone, Debug, PartialEq)]
enum Partners {
    /// The sample's views, the sheet's view first.
    Views(Vec<ViewKey>),
    /// The point has too few views of the kind the task pairs.
    TooFew,
    /// Too few could be found, and a record of the point could not be read: it may hold the missing ones.
    Unreadable,
}

/// The views of a sample of `task` that starts with `key`: the view alone, or it and other views of its
/// point (`point`: each with whether it is fixated, `None` when unreadable) that the task pairs it
/// with: fixated as it is for pairs and triplets, another fixated view of the point for matching.
fn partners(point: &[(ViewKey, Option<bool>)], key: ViewKey, task: &TaskSpec) -> Partners {
    if task.views == 1 {
        return Partners::Views(vec![key]);
    }
    let wanted = match task.sampling {
        Sampling::NonFixated => false,
        Sampling::Fixated | Sampling::Matching => true,
    };
    match point.iter().find(|(v, _)| *v == key) {
        Some((_, None)) => return Partners::Unreadable,
        Some((_, Some(own))) if *own == wanted => {}
        _ => return Partners::TooFew,
    }
    let mut views = vec![key];
    views.extend(
        point
            .iter()
            .filter(|&&(v, fixated)| v != key && fixated == Some(wanted))
            .map(|&(v, _)| v)
            .take(task.views - 1),
    );
    if views.len() == task.views {
        Partners::Views(views)
    } else if point.iter().any(|(_, fixated)| fixated.is_none()) {
        Partners::Unreadable
    } else {
        Partners::TooFew
    }
}

/// The tile of one view's label.
fn label_tile(name: &str, labels: &Labels, size: usize, blank: &[[u8; 3]]) -> Tile {
    let n = size * size;
    let tile = |caption: String, pixels: Vec<[u8; 3]>| Tile {
        caption,
        pixels,
        text: Vec::new(),
    };
    match labels {
        Labels::Dense { channels, values } => {
            let channel =
                |c: usize| -> Vec<f32> { (0..n).map(|i| values[i * channels + c]).collect() };
            let (lo, hi) = values
                .iter()
                .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            let byte = |t: f32| (t.clamp(0.0, 1.0) * 255.0).round() as u8;
            let unit = lo >= 0.0 && hi <= 1.0;
            if *channels == 1 {
                // One channel: values in [0, 1] as grey levels (edges, shading); others colour-mapped over
                // their range, which the caption gives (depth in metres).
                let v = channel(0);
                if unit {
                    return tile(name.to_string(), v.iter().map(|&x| [byte(x); 3]).collect());
                }
                return tile(
                    format!("{name} {lo:.1}..{hi:.1}"),
                    v.iter()
                        .map(|&x| colour_map((x - lo) / (hi - lo).max(1e-6)))
                        .collect(),
                );
            }
            // Several channels as colours: values in [0, 1] as they are (images), others with zero at
            // mid-grey and each channel scaled by its largest magnitude (normals, curvatures).
            let planes: Vec<(Vec<f32>, f32)> = (0..*channels.min(&3))
                .map(|c| {
                    let v = channel(c);
                    let largest = v.iter().fold(0.0f32, |m, x| m.max(x.abs())).max(1e-6);
                    (v, largest)
                })
                .collect();
            let pixels = (0..n)
                .map(|i| {
                    [0, 1, 2].map(|c| match planes.get(c) {
                        Some((v, _)) if unit => byte(v[i]),
                        Some((v, largest)) => byte(0.5 + v[i] / (2.0 * largest)),
                        None => 128,
                    })
                })
                .collect();
            tile(name.to_string(), pixels)
        }
        // Class 0 is coloured like any class: it is background only in some dictionaries (semantic
        // segmentation), a colour bin in others (colorization).
        Labels::PixelClasses { values, .. } => tile(
            name.to_string(),
            values
                .iter()
                .map(|&v| id_colour(v.wrapping_add(1000)))
                .collect(),
        ),
        Labels::Segments { values } => tile(
            name.to_string(),
            values.iter().map(|&v| id_colour(v)).collect(),
        ),
        Labels::Image { values, .. } => Tile {
            caption: name.to_string(),
            pixels: blank.to_vec(),
            text: image_level_lines(values),
        },
    }
}

/// An image-level label in a few lines: the largest entries of a distribution, or the values.
fn image_level_lines(values: &[f32]) -> Vec<String> {
    let is_distribution = values.iter().all(|&v| (0.0..=1.0).contains(&v))
        && (values.iter().sum::<f32>() - 1.0).abs() < 1e-3;
    if is_distribution {
        let mut ranked: Vec<(usize, f32)> = values
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, p)| p > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        return ranked
            .iter()
            .take(6)
            .map(|&(i, p)| format!("#{i} {:.0}%", 100.0 * p))
            .collect();
    }
    values
        .chunks(3)
        .take(6)
        .map(|chunk| {
            chunk
                .iter()
                .map(|v| format!("{v:+.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_draws_something() {
        let mut c = Canvas::new(40, 12, [0; 3]);
        c.text(1, 1, "ab1", [255; 3]);
        assert!(c.pixels.iter().filter(|p| **p == [255; 3]).count() > 20);
    }

    #[test]
    fn image_level_labels_read_as_distributions_or_values() {
        assert_eq!(image_level_lines(&[0.0, 0.75, 0.25]), ["#1 75%", "#2 25%"]);
        assert_eq!(
            image_level_lines(&[1.5, -2.0, 0.0, 4.0]),
            ["+1.50 -2.00 +0.00", "+4.00"]
        );
    }

    #[test]
    fn class_zero_is_coloured_like_any_class() {
        let labels = Labels::PixelClasses {
            classes: 3,
            values: vec![0, 1, 2, 0],
        };
        let tile = label_tile("colorization", &labels, 2, &[[0; 3]; 4]);
        assert_eq!(tile.pixels[0], id_colour(1000));
        assert_eq!(tile.pixels[0], tile.pixels[3]);
        assert_ne!(tile.pixels[0], tile.pixels[1]);
    }

    fn pair_task(views: usize, sampling: Sampling) -> TaskSpec {
        TaskSpec {
            views,
            sampling,
            ..crate::spec::tests::spec("pair")
        }
    }

    #[test]
    fn partners_are_views_of_the_point_sampled_alike() {
        let v = |view: u32| ViewKey { point: 0, view };
        let point = [
            (v(0), Some(true)),
            (v(1), Some(false)),
            (v(2), Some(true)),
            (v(3), Some(true)),
        ];
        let fixated = pair_task(2, Sampling::Fixated);
        assert_eq!(
            partners(&point, v(2), &fixated),
            Partners::Views(vec![v(2), v(0)])
        );
        assert_eq!(
            partners(&point, v(0), &pair_task(3, Sampling::Fixated)),
            Partners::Views(vec![v(0), v(2), v(3)])
        );
        // A non-fixated view has no non-fixated partner here, and a single-view task needs none.
        let nonfixated = pair_task(2, Sampling::NonFixated);
        assert_eq!(partners(&point, v(1), &nonfixated), Partners::TooFew);
        assert_eq!(partners(&point, v(0), &nonfixated), Partners::TooFew);
        assert_eq!(
            partners(&[], v(5), &pair_task(1, Sampling::Fixated)),
            Partners::Views(vec![v(5)])
        );
    }

    #[test]
    fn an_unreadable_record_is_no_label_unless_pairs_are_found_without_it() {
        let v = |view: u32| ViewKey { point: 0, view };
        let fixated = pair_task(2, Sampling::Fixated);
        let own_unreadable = [(v(0), None), (v(1), Some(true))];
        assert_eq!(
            partners(&own_unreadable, v(0), &fixated),
            Partners::Unreadable
        );
        let partner_unreadable = [(v(0), Some(true)), (v(1), None)];
        assert_eq!(
            partners(&partner_unreadable, v(0), &fixated),
            Partners::Unreadable
        );
        let enough_without = [(v(0), Some(true)), (v(1), None), (v(2), Some(true))];
        assert_eq!(
            partners(&enough_without, v(0), &fixated),
            Partners::Views(vec![v(0), v(2)])
        );
    }

    #[test]
    fn colour_map_runs_from_dark_to_bright() {
        let (a, b) = (colour_map(0.0), colour_map(1.0));
        assert!(
            a.iter().map(|&v| u32::from(v)).sum::<u32>()
                < b.iter().map(|&v| u32::from(v)).sum::<u32>()
        );
    }
}
