//! Contact sheets: one view's RGB and every task's label side by side, captioned, colour-mapped where a
//! label is not an image, so a person can check a dataset at a glance.

use std::path::Path;

use super::labels::derived::{jigsaw_permutations, JIGSAW_PERMUTATIONS};
use super::labels::geometry::{egomotion, relative_pose, room_axes_in_camera, RoomBox, NO_OBJECT};
use super::labels::Label;
use super::layout::{encode_png, PngPixels, PointInfo, ViewKey};
use super::loader::{load_view, Dataset};
use super::math::{Pose, Vec3};
use super::scene::{ObjectClass, SceneClass};
use super::Error;

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

    /// A straight line (Bresenham).
    fn line(&mut self, from: (f64, f64), to: (f64, f64), c: [u8; 3]) {
        let (mut x0, mut y0, x1, y1) = (
            from.0.round() as i64,
            from.1.round() as i64,
            to.0.round() as i64,
            to.1.round() as i64,
        );
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        for _ in 0..4096 {
            self.set(x0, y0, c);
            if x0 == x1 && y0 == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x0 += sx;
            }
            if e2 <= dx {
                err += dx;
                y0 += sy;
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

/// The contact sheet of one view: 26 captioned tiles, one per task, plus the RGB image.
pub fn contact_sheet(
    dataset: &Dataset,
    building: &str,
    key: ViewKey,
    seed: u64,
) -> Result<Canvas, Error> {
    let size = dataset.size;
    let singles: Vec<Label> = Label::ALL
        .into_iter()
        .filter(|l| l.sample_kind() == super::labels::SampleKind::Single)
        .collect();
    let sample = load_view(dataset, building, key, &singles, seed)?;
    let info = dataset.point_info(building, key)?;
    let n = size * size;
    let rgb: Vec<[u8; 3]> = planes_to_pixels(&sample.rgb[0], 3, n, |v| (v * 255.0).round() as u8);
    let grey = |v: &[f32]| -> Vec<[u8; 3]> {
        v.iter()
            .map(|&x| [(x.clamp(0.0, 1.0) * 255.0) as u8; 3])
            .collect()
    };
    let mapped = |v: &[f32]| -> (Vec<[u8; 3]>, f32, f32) {
        let (lo, hi) = v
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        (
            v.iter()
                .map(|&x| colour_map((x - lo) / (hi - lo).max(1e-6)))
                .collect(),
            lo,
            hi,
        )
    };
    let target = |l: Label| sample.targets[&l].as_slice();
    let mut tiles: Vec<(String, Vec<[u8; 3]>)> = vec![("rgb".into(), rgb.clone())];
    let (depth, lo, hi) = mapped(target(Label::Depth));
    tiles.push((format!("depth {lo:.1}-{hi:.1}m"), depth));
    let (distance, lo, hi) = mapped(target(Label::Distance));
    tiles.push((format!("distance {lo:.1}-{hi:.1}m"), distance));
    tiles.push((
        "surface_normals".into(),
        planes_to_pixels(target(Label::SurfaceNormals), 3, n, |v| {
            ((v + 1.0) / 2.0 * 255.0).round() as u8
        }),
    ));
    tiles.push(("reshading".into(), grey(target(Label::Reshading))));
    let curvature = target(Label::Curvature);
    tiles.push((
        "curvature k1 k2".into(),
        (0..n)
            .map(|i| {
                [curvature[i], curvature[n + i]]
                    .map(|k| (128.0 + 127.0 * (k / 4.0).clamp(-1.0, 1.0)) as u8)
            })
            .map(|[a, b]| [a, b, 128])
            .collect(),
    ));
    tiles.push(("edges2d".into(), grey(target(Label::Edges2d))));
    tiles.push(("edges3d".into(), grey(target(Label::Edges3d))));
    tiles.push((
        "keypoints2d".into(),
        target(Label::Keypoints2d)
            .iter()
            .map(|&v| colour_map(v))
            .collect(),
    ));
    tiles.push((
        "keypoints3d".into(),
        target(Label::Keypoints3d)
            .iter()
            .map(|&v| colour_map(v))
            .collect(),
    ));
    tiles.push((
        "segment2d".into(),
        target(Label::Segment2d)
            .iter()
            .map(|&v| id_colour(v as u32))
            .collect(),
    ));
    tiles.push((
        "segment25d".into(),
        target(Label::Segment25d)
            .iter()
            .map(|&v| id_colour(v as u32))
            .collect(),
    ));
    tiles.push((
        "semantic_segmentation".into(),
        target(Label::SemanticSegmentation)
            .iter()
            .map(|&v| {
                if v == 0.0 {
                    [40, 40, 40]
                } else {
                    id_colour(1000 + v as u32)
                }
            })
            .collect(),
    ));
    tiles.push((
        "colorization (a,b)".into(),
        target(Label::Colorization)
            .iter()
            .map(|&c| ab_colour(c as u8))
            .collect(),
    ));
    let input = |l: Label| {
        planes_to_pixels(&sample.inputs[&l], 3, n, |v| {
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        })
    };
    tiles.push(("colorization in".into(), input(Label::Colorization)));
    tiles.push(("denoising in".into(), input(Label::Denoising)));
    tiles.push(("inpainting in".into(), input(Label::Inpainting)));
    let jig = target(Label::Jigsaw)
        .iter()
        .position(|&v| v == 1.0)
        .unwrap_or(0);
    tiles.push((
        format!("jigsaw #{jig}/{JIGSAW_PERMUTATIONS}"),
        input(Label::Jigsaw),
    ));
    let _ = jigsaw_permutations();
    let dim: Vec<[u8; 3]> = rgb.iter().map(|p| p.map(|c| c / 2)).collect();
    let (layout_tile, vp_tile) = match &info.room_box {
        Some(room) => (
            room_wireframe(&dim, size, &info, room, false),
            room_wireframe(&dim, size, &info, room, true),
        ),
        None => (dim.clone(), dim.clone()),
    };
    tiles.push(("room_layout".into(), layout_tile));
    tiles.push(("vanishing_points".into(), vp_tile));
    let blank = vec![[24u8, 24, 24]; n];
    let objects = target(Label::ObjectClass);
    let mut ranked: Vec<(usize, f32)> = objects
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, p)| p > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let object_lines: Vec<String> = ranked
        .iter()
        .take(6)
        .map(|&(i, p)| {
            let name = if i == NO_OBJECT {
                "none"
            } else {
                ObjectClass::ALL.get(i).map_or("?", |c| c.name())
            };
            format!("{name} {:.0}%", 100.0 * p)
        })
        .collect();
    tiles.push(("object_class".into(), blank.clone()));
    let scene_index = target(Label::SceneClass)
        .iter()
        .position(|&v| v == 1.0)
        .unwrap_or(0);
    tiles.push(("scene_class".into(), blank.clone()));

    // Pairs and triplets: partners of this view from the same point.
    let building_entry = dataset.buildings.iter().find(|b| b.name == building);
    let same_point: Vec<(ViewKey, PointInfo)> = building_entry
        .map(|b| {
            b.views
                .iter()
                .filter(|v| v.point == key.point && **v != key)
                .filter_map(|&v| dataset.point_info(building, v).ok().map(|i| (v, i)))
                .collect()
        })
        .unwrap_or_default();
    let partner = same_point.iter().find(|(_, i)| i.fixated == info.fixated);
    let pose_text = |a: &Pose, b: &Pose| -> Vec<String> {
        let v = relative_pose(a, b);
        vec![
            format!("r {:+.2} {:+.2} {:+.2}", v[0], v[1], v[2]),
            format!("t {:+.2} {:+.2} {:+.2}", v[3], v[4], v[5]),
        ]
    };
    let mut text_tiles: Vec<(usize, Vec<String>)> = vec![
        (tiles.len() - 2, object_lines),
        (
            tiles.len() - 1,
            vec![SceneClass::from_index(scene_index)
                .map_or("?", |c| c.name())
                .to_string()],
        ),
    ];
    match partner {
        Some((pk, pinfo)) => {
            let partner_rgb = dataset.read(building, super::layout::Domain::Rgb, *pk)?;
            tiles.push((
                format!("matching v{}: same", pk.view),
                planes_to_pixels(&partner_rgb, 3, n, |v| (v * 255.0).round() as u8),
            ));
            let name = if info.fixated {
                "fixated_pose"
            } else {
                "non_fixated_pose"
            };
            tiles.push((format!("{name} v{}>v{}", key.view, pk.view), blank.clone()));
            text_tiles.push((
                tiles.len() - 1,
                pose_text(&info.camera_pose(), &pinfo.camera_pose()),
            ));
        }
        None => tiles.push(("point_matching".into(), blank.clone())),
    }
    let fixated: Vec<&(ViewKey, PointInfo)> =
        same_point.iter().filter(|(_, i)| i.fixated).collect();
    if info.fixated && fixated.len() >= 2 {
        let poses = [
            info.camera_pose(),
            fixated[0].1.camera_pose(),
            fixated[1].1.camera_pose(),
        ];
        let e = egomotion([&poses[0], &poses[1], &poses[2]]);
        tiles.push((
            format!(
                "egomotion v{} v{} v{}",
                key.view, fixated[0].0.view, fixated[1].0.view
            ),
            blank.clone(),
        ));
        text_tiles.push((
            tiles.len() - 1,
            vec![
                format!("r01 {:+.2} {:+.2} {:+.2}", e[0], e[1], e[2]),
                format!("t01 {:+.2} {:+.2} {:+.2}", e[3], e[4], e[5]),
                format!("r12 {:+.2} {:+.2} {:+.2}", e[6], e[7], e[8]),
                format!("t12 {:+.2} {:+.2} {:+.2}", e[9], e[10], e[11]),
            ],
        ));
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
    for (k, (name, pixels)) in tiles.iter().enumerate() {
        let (x, y) = (
            gap + (k % cols) * (tile + gap),
            14 + gap + (k / cols) * (tile + caption + gap),
        );
        canvas.text(
            x,
            y,
            &name.chars().take(tile / 6).collect::<String>(),
            [230, 230, 230],
        );
        canvas.blit(x, y + caption, size, scale, pixels);
        if let Some((_, lines)) = text_tiles.iter().find(|(i, _)| *i == k) {
            for (r, line) in lines.iter().enumerate() {
                canvas.text(
                    x + 3,
                    y + caption + 4 + 10 * r,
                    &line.chars().take((tile - 4) / 6).collect::<String>(),
                    [255, 220, 120],
                );
            }
        }
    }
    Ok(canvas)
}

fn planes_to_pixels(
    planes: &[f32],
    channels: usize,
    n: usize,
    f: impl Fn(f32) -> u8,
) -> Vec<[u8; 3]> {
    (0..n)
        .map(|i| [0, 1, 2].map(|c| f(planes[c.min(channels - 1) * n + i])))
        .collect()
}

/// The colour of a colorization class: the centre of its (a*, b*) bin at lightness 65.
fn ab_colour(class: u8) -> [u8; 3] {
    let (a, b) = (
        f64::from(class / 8) * 32.0 - 112.0,
        f64::from(class % 8) * 32.0 - 112.0,
    );
    let fy = (65.0 + 16.0) / 116.0;
    let (fx, fz) = (fy + a / 500.0, fy - b / 200.0);
    let inv = |t: f64| {
        if t > 6.0 / 29.0 {
            t * t * t
        } else {
            3.0 * (6.0f64 / 29.0).powi(2) * (t - 4.0 / 29.0)
        }
    };
    let (x, y, z) = (0.950_47 * inv(fx), inv(fy), 1.088_83 * inv(fz));
    let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
    let g = -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z;
    let bl = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
    [r, g, bl].map(super::render::encode_srgb)
}

/// The RGB tile with the room box's edges drawn: white, or (for vanishing points) coloured by the axis they
/// run along (red x, green y, blue z), with the vanishing points inside the image marked.
fn room_wireframe(
    base: &[[u8; 3]],
    size: usize,
    info: &PointInfo,
    room: &RoomBox,
    by_axis: bool,
) -> Vec<[u8; 3]> {
    let scale = 128usize.div_ceil(size).max(1);
    let big = size * scale;
    let mut canvas = Canvas::new(big, big, [0, 0, 0]);
    canvas.blit(0, 0, size, scale, base);
    let pose = info.camera_pose();
    let to_camera = pose.inverse();
    let f = big as f64 / 2.0 / libm::tan(info.field_of_view_rads / 2.0);
    let c = big as f64 / 2.0;
    let project = |p: Vec3| (c + f * p.x / -p.z, c - f * p.y / -p.z);
    let axes = room.rotation();
    let centre = Vec3::from_array(room.center);
    let h = room.half_extents;
    let corner = |s: [f64; 3]| {
        centre
            + axes.column(0) * (s[0] * h[0])
            + axes.column(1) * (s[1] * h[1])
            + axes.column(2) * (s[2] * h[2])
    };
    const AXIS_COLOURS: [[u8; 3]; 3] = [[255, 80, 80], [80, 255, 80], [90, 140, 255]];
    for axis in 0..3 {
        for a in [-1.0, 1.0] {
            for b in [-1.0, 1.0] {
                let mut s0 = [a, b, b];
                let (i, j) = match axis {
                    0 => (1, 2),
                    1 => (0, 2),
                    _ => (0, 1),
                };
                s0[i] = a;
                s0[j] = b;
                s0[axis] = -1.0;
                let mut s1 = s0;
                s1[axis] = 1.0;
                let (mut p, mut q) = (to_camera.apply(corner(s0)), to_camera.apply(corner(s1)));
                // Clip the edge to the part in front of the camera.
                let near = -0.05;
                if p.z > near && q.z > near {
                    continue;
                }
                if p.z > near {
                    p = q + (p - q) * ((near - q.z) / (p.z - q.z));
                } else if q.z > near {
                    q = p + (q - p) * ((near - p.z) / (q.z - p.z));
                }
                let colour = if by_axis {
                    AXIS_COLOURS[axis]
                } else {
                    [255, 255, 120]
                };
                canvas.line(project(p), project(q), colour);
            }
        }
    }
    if by_axis {
        let r = room_axes_in_camera(&pose, room);
        for (axis, colour) in AXIS_COLOURS.iter().enumerate() {
            let d = r.column(axis);
            if d.z.abs() > 1e-3 {
                let (x, y) = project(if d.z < 0.0 { d } else { -d });
                for k in -3i64..=3 {
                    canvas.set(x as i64 + k, y as i64, *colour);
                    canvas.set(x as i64, y as i64 + k, *colour);
                }
            }
        }
    }
    // Back to the tile's own resolution: keep the magnified drawing by sampling every `scale`-th pixel would
    // lose the lines, so the caller gets the magnified tile through a size-`big` tile instead.
    downsample_keep_lines(&canvas, size, scale, base)
}

/// Shrinks a magnified drawing back to `size × size`, keeping any pixel a line passed through.
fn downsample_keep_lines(
    canvas: &Canvas,
    size: usize,
    scale: usize,
    base: &[[u8; 3]],
) -> Vec<[u8; 3]> {
    (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            let mut out = base[i];
            for dy in 0..scale {
                for dx in 0..scale {
                    let p = canvas.pixels[(y * scale + dy) * canvas.width + x * scale + dx];
                    if p != base[i] {
                        out = p;
                    }
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_draws_something_and_lines_reach_their_end() {
        let mut c = Canvas::new(40, 12, [0; 3]);
        c.text(1, 1, "ab1", [255; 3]);
        assert!(c.pixels.iter().filter(|p| **p == [255; 3]).count() > 20);
        let mut c = Canvas::new(20, 20, [0; 3]);
        c.line((1.0, 2.0), (17.0, 11.0), [9; 3]);
        assert_eq!(c.pixels[11 * 20 + 17], [9; 3]);
        assert_eq!(c.pixels[2 * 20 + 1], [9; 3]);
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
