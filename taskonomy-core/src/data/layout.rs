//! The Taskonomy dataset layout: `{root}/{building}/{domain}/point_{P}_view_{V}_domain_{DOMAIN}.{ext}`,
//! the JSON "point info" that holds each view's camera and point, and the file formats labels are stored
//! in (PNG, `.npy`).
//!
//! Every view has an RGB image in the [`RGB`] folder and a record in the [`POINT_INFO`] folder; every
//! task with stored labels has its own domain folder, read and written with the encoding its declaration
//! names ([`super::encoding`]). Reading accepts what the released dataset contains (8- or 16-bit PNGs,
//! grey or colour, `.npy` arrays in `float32` or `float64`, point-info files with more fields than we
//! write).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::labels::geometry::RoomBox;
use super::Error;

/// The folder of every view's RGB image (8-bit sRGB PNG): the networks' input.
pub const RGB: &str = "rgb";
/// The folder of every view's point-info JSON ([`PointInfo`]).
pub const POINT_INFO: &str = "point_info";

/// Which view of which point: the `P` and `V` of a file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ViewKey {
    /// Point number.
    pub point: u32,
    /// View number.
    pub view: u32,
}

/// `{root}/{building}/{domain}/point_{P}_view_{V}_domain_{DOMAIN}.{extension}`.
pub fn view_path(
    root: &Path,
    building: &str,
    domain: &str,
    extension: &str,
    key: ViewKey,
) -> PathBuf {
    root.join(building)
        .join(domain)
        .join(file_name(domain, extension, key))
}

/// `point_{P}_view_{V}_domain_{DOMAIN}.{extension}`.
pub fn file_name(domain: &str, extension: &str, key: ViewKey) -> String {
    format!(
        "point_{}_view_{}_domain_{domain}.{extension}",
        key.point, key.view
    )
}

/// The RGB image of a view.
pub fn rgb_path(root: &Path, building: &str, key: ViewKey) -> PathBuf {
    view_path(root, building, RGB, "png", key)
}

/// The point-info record of a view.
pub fn point_info_path(root: &Path, building: &str, key: ViewKey) -> PathBuf {
    view_path(root, building, POINT_INFO, "json", key)
}

/// The view key and domain name of a file name `point_{P}_view_{V}_domain_{DOMAIN}.{ext}`, if it is one.
pub fn parse_file_name(name: &str) -> Option<(ViewKey, &str)> {
    let rest = name.strip_prefix("point_")?;
    let (point, rest) = rest.split_once("_view_")?;
    let (view, rest) = rest.split_once("_domain_")?;
    let (domain, _ext) = rest.rsplit_once('.')?;
    Some((
        ViewKey {
            point: point.parse().ok()?,
            view: view.parse().ok()?,
        },
        domain,
    ))
}

/// The `point_info` JSON of one view. Field names follow the released Taskonomy dataset; the fields marked
/// "ours" are written by the synthetic renderer and optional when reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointInfo {
    /// Building (scene) name.
    #[serde(default)]
    pub building: String,
    /// Identifier of the point.
    #[serde(default)]
    pub point_uuid: String,
    /// View number.
    #[serde(default)]
    pub view_id: u32,
    /// Identifier of the camera.
    #[serde(default)]
    pub camera_uuid: String,
    /// Optical centre, world frame (metres, z up).
    pub camera_location: [f64; 3],
    /// Camera-to-world rotation as static-axis Euler angles `[x, y, z]` (radians), `R = Rz·Ry·Rx`; the
    /// camera looks along its −z axis with y up.
    pub camera_rotation_final: [f64; 3],
    /// Field of view (radians), horizontal = vertical.
    pub field_of_view_rads: f64,
    /// Image side (pixels).
    #[serde(default)]
    pub resolution: u32,
    /// The point, world frame (metres).
    #[serde(default)]
    pub point_location: Option<[f64; 3]>,
    /// Distance from the camera to the point (metres).
    #[serde(default)]
    pub camera_distance: f64,
    /// Angle between the line of sight and the surface normal at the point (radians).
    #[serde(default)]
    pub obliqueness_angle: f64,
    /// Points (by uuid) seen off-centre in this view.
    #[serde(default)]
    pub nonfixated_points_in_view: Vec<String>,
    /// Ours: whether the optical axis passes through the point (absent in the released data: true).
    #[serde(default = "default_true")]
    pub fixated: bool,
    /// Ours: room type name.
    #[serde(default)]
    pub room_type: Option<String>,
    /// Ours: the room box in the world frame, from which room layout and vanishing points are computed.
    #[serde(default)]
    pub room_box: Option<RoomBox>,
    /// The room's Manhattan directions in the camera frame (the vanishing-point label).
    #[serde(default)]
    pub vanishing_points_gaussian_sphere: Option<VanishingPointsJson>,
}

fn default_true() -> bool {
    true
}

/// The vanishing-point directions as the released data names them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VanishingPointsJson {
    /// The room's x axis in the camera frame.
    pub x: [f64; 3],
    /// The room's y axis.
    pub y: [f64; 3],
    /// The room's z (up) axis.
    pub z: [f64; 3],
}

impl PointInfo {
    /// The camera-to-world pose.
    pub fn camera_pose(&self) -> super::math::Pose {
        super::math::Pose {
            rotation: super::math::Mat3::from_euler_xyz(self.camera_rotation_final),
            translation: super::math::Vec3::from_array(self.camera_location),
        }
    }
}

/// Pixels to write to a PNG.
#[derive(Clone, Copy, Debug)]
pub enum PngPixels<'a> {
    /// 8-bit, 1 channel.
    Gray8(&'a [u8]),
    /// 16-bit, 1 channel.
    Gray16(&'a [u16]),
    /// 8-bit, 3 channels interleaved.
    Rgb8(&'a [u8]),
    /// 8-bit, 4 channels interleaved.
    Rgba8(&'a [u8]),
    /// 16-bit, 3 channels interleaved.
    Rgb16(&'a [u16]),
    /// 16-bit, 4 channels interleaved.
    Rgba16(&'a [u16]),
}

/// A decoded PNG: samples interleaved, 8-bit values widened to `u16`, with the bit depth kept so values can
/// be normalised.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedPng {
    /// Width (pixels).
    pub width: usize,
    /// Height (pixels).
    pub height: usize,
    /// Channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    pub channels: usize,
    /// 8 or 16.
    pub bit_depth: u8,
    /// Samples, row-major, channels interleaved.
    pub samples: Vec<u16>,
}

impl DecodedPng {
    /// Largest sample value for the bit depth.
    pub fn max_value(&self) -> f32 {
        if self.bit_depth == 16 {
            65535.0
        } else {
            255.0
        }
    }
}

/// Encodes a square or rectangular image as PNG bytes (fast deflate; the pixels are exact either way).
pub fn encode_png(
    width: usize,
    height: usize,
    pixels: PngPixels<'_>,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_compression(png::Compression::Fast);
        let bytes: Vec<u8>;
        let data: &[u8] = match pixels {
            PngPixels::Gray8(p) => {
                encoder.set_color(png::ColorType::Grayscale);
                encoder.set_depth(png::BitDepth::Eight);
                p
            }
            PngPixels::Rgb8(p) => {
                encoder.set_color(png::ColorType::Rgb);
                encoder.set_depth(png::BitDepth::Eight);
                p
            }
            PngPixels::Rgba8(p) => {
                encoder.set_color(png::ColorType::Rgba);
                encoder.set_depth(png::BitDepth::Eight);
                p
            }
            PngPixels::Gray16(p) | PngPixels::Rgb16(p) | PngPixels::Rgba16(p) => {
                encoder.set_color(match pixels {
                    PngPixels::Gray16(_) => png::ColorType::Grayscale,
                    PngPixels::Rgb16(_) => png::ColorType::Rgb,
                    _ => png::ColorType::Rgba,
                });
                encoder.set_depth(png::BitDepth::Sixteen);
                // PNG stores 16-bit samples big-endian.
                bytes = p.iter().flat_map(|v| v.to_be_bytes()).collect();
                &bytes
            }
        };
        let mut writer = encoder.write_header()?;
        writer.write_image_data(data)?;
        writer.finish()?;
    }
    Ok(out)
}

/// The most bytes one PNG may decode to: 64 MiB, eight times a 1024×1024 RGBA image at 16 bits (Taskonomy's
/// images are 512×512). The header says how large the image is before any pixel is read, and a hostile or
/// corrupt one can claim 2³¹ × 2³¹; the decoder's own buffers (rows, chunks) are held to the same budget.
const PNG_MAX_BYTES: usize = 64 << 20;

/// Decodes PNG bytes (palette and low bit depths expanded to 8 bits); `path` names the file in errors.
/// Images that would decode to more than `PNG_MAX_BYTES` (64 MiB) are refused before anything is allocated.
pub fn decode_png(bytes: &[u8], path: &Path) -> Result<DecodedPng, Error> {
    let err = |source: png::DecodingError| Error::Png {
        path: path.to_path_buf(),
        source,
    };
    let too_large = |found: String| Error::Format {
        path: path.to_path_buf(),
        expected: format!("a PNG that decodes in at most {} MiB", PNG_MAX_BYTES >> 20),
        found,
    };
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: PNG_MAX_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND);
    let (width, height) = decoder.read_header_info().map_err(err)?.size();
    let decoding = |e: png::DecodingError| match e {
        png::DecodingError::LimitsExceeded => {
            too_large(format!("a {width}×{height} image that needs more"))
        }
        e => err(e),
    };
    let mut reader = decoder.read_info().map_err(decoding)?;
    // The limits above cover the decoder's buffers, not the output buffer, which is ours to allocate.
    let size = reader
        .output_buffer_size()
        .filter(|&size| size <= PNG_MAX_BYTES)
        .ok_or_else(|| too_large(format!("a {width}×{height} image that needs more")))?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(decoding)?;
    let channels = info.color_type.samples();
    let bit_depth = if info.bit_depth == png::BitDepth::Sixteen {
        16
    } else {
        8
    };
    let frame = (info.width as usize)
        .checked_mul(info.height as usize)
        .and_then(|pixels| pixels.checked_mul(channels * usize::from(bit_depth / 8)))
        .and_then(|len| buf.get(..len))
        .ok_or_else(|| Error::Format {
            path: path.to_path_buf(),
            expected: format!("a frame of at most {width}×{height} pixels"),
            found: format!("a {}×{} frame", info.width, info.height),
        })?;
    let samples = if bit_depth == 16 {
        frame
            .chunks_exact(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .collect()
    } else {
        frame.iter().map(|&b| u16::from(b)).collect()
    };
    Ok(DecodedPng {
        width: info.width as usize,
        height: info.height as usize,
        channels,
        bit_depth,
        samples,
    })
}

/// Writes a 1-D `float32` little-endian `.npy` (format 1.0) holding `values`.
pub fn encode_npy(values: &[f32]) -> Vec<u8> {
    encode_npy_shaped(values, &[values.len()])
}

/// Writes a C-ordered `float32` little-endian `.npy` (format 1.0) of `shape` holding `values` (their
/// number is the product of `shape`).
pub fn encode_npy_shaped(values: &[f32], shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * values.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// An `.npy` array: its shape, and its values in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The dimensions, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// The values in C order.
    pub values: Vec<f32>,
}

/// Reads a C-ordered little-endian `float32` or `float64` `.npy` (format version 1.0, 2.0 or 3.0) of any
/// shape, its values as `f32`. The header is parsed as the dictionary NumPy writes, and the data must be
/// exactly as long as its shape and dtype say, so nothing is allocated on the header's word alone.
pub fn decode_npy(bytes: &[u8], path: &Path) -> Result<NpyArray, Error> {
    let bad = |found: String| Error::Format {
        path: path.to_path_buf(),
        expected: "a little-endian float32/float64 .npy array".into(),
        found,
    };
    let truncated = || bad("a truncated header".into());
    let rest = bytes
        .strip_prefix(b"\x93NUMPY")
        .ok_or_else(|| bad("no .npy magic".into()))?;
    // Version 1.0 gives the header's length in 2 bytes, 2.0 and 3.0 (UTF-8 headers) in 4.
    let (len, rest) = match rest {
        [1, 0, a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        [2 | 3, 0, a, b, c, d, rest @ ..] => (
            usize::try_from(u32::from_le_bytes([*a, *b, *c, *d])).map_err(|_| truncated())?,
            rest,
        ),
        [1..=3, 0, ..] => return Err(truncated()),
        [major, minor, ..] => return Err(bad(format!("format version {major}.{minor}"))),
        _ => return Err(truncated()),
    };
    let (header, data) = rest.split_at_checked(len).ok_or_else(|| {
        bad(format!(
            "a header of {len} bytes in a file of {} bytes",
            bytes.len()
        ))
    })?;
    let header = std::str::from_utf8(header)
        .map_err(|_| bad("a header that is not UTF-8 text".into()))?
        .trim();
    let header = parse_npy_header(header)
        .ok_or_else(|| bad(format!("the header `{}`", excerpt(header, 120))))?;
    if header.fortran_order {
        return Err(bad("a Fortran-ordered array".into()));
    }
    let width = match header.descr {
        "<f4" => 4,
        "<f8" => 8,
        ">f4" | ">f8" => return Err(bad(format!("big-endian dtype `{}`", header.descr))),
        other => return Err(bad(format!("dtype `{}`", excerpt(other, 40)))),
    };
    let shape = || {
        let dims: Vec<String> = header.shape.iter().map(usize::to_string).collect();
        dims.join("×")
    };
    let len = header
        .shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .and_then(|n| n.checked_mul(width).map(|bytes| (n, bytes)));
    match len {
        Some((_, bytes)) if bytes == data.len() => {}
        Some((n, _)) => {
            return Err(bad(format!(
                "{} data bytes for the {n} values of shape {}",
                data.len(),
                shape()
            )))
        }
        None => {
            return Err(bad(format!(
                "shape {}, more values than can be addressed",
                shape()
            )))
        }
    }
    let values = if width == 4 {
        data.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
            .collect()
    };
    Ok(NpyArray {
        shape: header.shape,
        values,
    })
}

/// The three keys of a `.npy` header.
struct NpyHeader<'a> {
    descr: &'a str,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Parses the Python dictionary literal NumPy writes as a header,
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`, with exactly its three keys (as NumPy's own
/// reader demands) in any order; `None` if it is anything else. Dimensions may carry the `L` suffix of
/// files written by Python 2.
fn parse_npy_header(text: &str) -> Option<NpyHeader<'_>> {
    /// A string in single or double quotes (dtype strings and keys never contain quotes) and what follows.
    fn quoted(text: &str) -> Option<(&str, &str)> {
        let quote = text.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
        text[1..].split_once(quote)
    }
    let mut rest = text.strip_prefix('{')?;
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            if !after.trim().is_empty() {
                return None;
            }
            break;
        }
        let (key, after) = quoted(rest)?;
        rest = after.trim_start().strip_prefix(':')?.trim_start();
        let first = match key {
            "descr" => {
                let (value, after) = quoted(rest)?;
                rest = after;
                descr.replace(value).is_none()
            }
            "fortran_order" => {
                let (value, after) = if let Some(after) = rest.strip_prefix("True") {
                    (true, after)
                } else {
                    (false, rest.strip_prefix("False")?)
                };
                rest = after;
                fortran_order.replace(value).is_none()
            }
            "shape" => {
                let (inside, after) = rest.strip_prefix('(')?.split_once(')')?;
                rest = after;
                // `()` is a scalar's shape, and a 1-tuple is written `(3,)`.
                let inside = inside.trim();
                let dims = match inside.strip_suffix(',').unwrap_or(inside) {
                    "" if inside.is_empty() => Vec::new(),
                    items => items
                        .split(',')
                        .map(|d| {
                            let d = d.trim();
                            d.strip_suffix('L').unwrap_or(d).parse::<usize>().ok()
                        })
                        .collect::<Option<Vec<usize>>>()?,
                };
                shape.replace(dims).is_none()
            }
            _ => return None,
        };
        if !first {
            return None;
        }
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return None;
        }
    }
    Some(NpyHeader {
        descr: descr?,
        fortran_order: fortran_order?,
        shape: shape?,
    })
}

/// The first `max` characters of `text`, with `…` if there were more: hostile files can hold megabytes
/// where a short header belongs, and an error message quotes only what identifies it.
fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, creating folders, so a crash never
/// leaves a half-written file under the final name. Not flushed to disk one by one (unlike a run's
/// artifacts): a dataset is thousands of files, and rendering them again is cheap.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    crate::store::replace_file(path, bytes, crate::store::Flush::Lazily).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip() {
        let key = ViewKey { point: 12, view: 3 };
        let name = file_name("depth_zbuffer", "png", key);
        assert_eq!(name, "point_12_view_3_domain_depth_zbuffer.png");
        assert_eq!(parse_file_name(&name), Some((key, "depth_zbuffer")));
        assert_eq!(parse_file_name("point_x_view_3_domain_rgb.png"), None);
        assert_eq!(
            point_info_path(Path::new("r"), "b", key),
            Path::new("r/b/point_info/point_12_view_3_domain_point_info.json")
        );
    }

    #[test]
    fn npy_round_trips_and_rejects_garbage() {
        let v: Vec<f32> = (0..365).map(|i| i as f32 * 0.5).collect();
        let bytes = encode_npy(&v);
        assert_eq!(
            (10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))) % 64,
            0
        );
        assert_eq!(decode_npy(&bytes, Path::new("x.npy")).unwrap().values, v);
        let err = decode_npy(&bytes[..bytes.len() - 3], Path::new("x.npy"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.npy"), "{err}");
        assert!(decode_npy(b"not numpy", Path::new("y.npy")).is_err());
        let planes = encode_npy_shaped(&[1.0, 2.0, 3.0, 4.0], &[1, 2, 2]);
        assert_eq!(
            decode_npy(&planes, Path::new("p.npy")).unwrap(),
            NpyArray {
                shape: vec![1, 2, 2],
                values: vec![1.0, 2.0, 3.0, 4.0]
            }
        );
    }

    /// An `.npy` file of format `version` with `header` as its header text, followed by `data`.
    fn npy_file(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY".to_vec();
        out.extend_from_slice(&[version, 0]);
        if version == 1 {
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn npy_error(bytes: &[u8]) -> String {
        let err = decode_npy(bytes, Path::new("z.npy"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("z.npy: "), "{err}");
        err
    }

    #[test]
    fn npy_shape_whose_size_overflows_is_an_error() {
        let header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }";
        let err = npy_error(&npy_file(1, header, &[0; 8]));
        assert!(err.contains("99999999999×99999999999"), "{err}");
        // A product that fits but whose byte count does not.
        let header = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
            usize::MAX / 4
        );
        npy_error(&npy_file(1, &header, &[0; 8]));
        let header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }";
        npy_error(&npy_file(1, header, &[0; 8]));
    }

    #[test]
    fn npy_reads_every_format_version_and_header_spelling() {
        let data: Vec<u8> = [1.5f64, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        for version in [1, 2, 3] {
            let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
            let v = decode_npy(&npy_file(version, header, &data), Path::new("v.npy"))
                .unwrap()
                .values;
            assert_eq!(v, [1.5, -2.0]);
        }
        // Key order, double quotes, Python 2's long integers and a 2-D shape are all NumPy's.
        let header = r#"{"shape": (1L, 2L), "fortran_order": False, "descr": "<f8"}"#;
        assert_eq!(
            decode_npy(&npy_file(1, header, &data), Path::new("p.npy")).unwrap(),
            NpyArray {
                shape: vec![1, 2],
                values: vec![1.5, -2.0]
            }
        );
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': ()}";
        assert_eq!(
            decode_npy(
                &npy_file(1, header, &7.0f32.to_le_bytes()),
                Path::new("s.npy")
            )
            .unwrap(),
            NpyArray {
                shape: vec![],
                values: vec![7.0]
            }
        );
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0,)}";
        assert!(decode_npy(&npy_file(1, header, &[]), Path::new("e.npy"))
            .unwrap()
            .values
            .is_empty());
    }

    #[test]
    fn npy_files_this_reader_cannot_take_are_errors_saying_why() {
        let data = [0u8; 8];
        let err = npy_error(&npy_file(4, "{}", &data));
        assert!(err.contains("version 4.0"), "{err}");
        assert!(npy_error(&npy_file(1, "{}", &data)).contains("header"));
        let err = npy_error(b"\x93NUMPY\x02\x00\x10");
        assert!(err.contains("truncated"), "{err}");
        let mut long = npy_file(2, "{}", &data);
        long[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(npy_error(&long).contains("4294967295 bytes"));
        let mut latin1 = npy_file(1, "{'descr': '<f4'}", &data);
        latin1[11] = 0xff;
        let err = npy_error(&latin1);
        assert!(err.contains("UTF-8"), "{err}");
        let header = "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }";
        assert!(npy_error(&npy_file(1, header, &data)).contains("big-endian dtype `>f4`"));
        let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }";
        assert!(npy_error(&npy_file(1, header, &data)).contains("dtype `<i8`"));
        let header = "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }";
        assert!(npy_error(&npy_file(1, header, &data)).contains("Fortran"));
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
        assert!(npy_error(&npy_file(1, header, &data)).contains("8 data bytes for the 3 values"));
        // Keys NumPy does not write, or writes once, and text after the dictionary.
        for header in [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} trailing",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}",
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
        ] {
            let err = npy_error(&npy_file(1, header, &data));
            assert!(err.contains("the header"), "{header}: {err}");
        }
    }

    /// A PNG whose header claims `width × height` RGB pixels, followed by an empty `IDAT` chunk: a decoder
    /// knows the size before it reads any pixel.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        writer.write_chunk(png::chunk::IDAT, &[]).unwrap();
        drop(writer);
        out
    }

    #[test]
    fn png_claiming_a_gigantic_size_is_refused_before_allocating() {
        for (w, h) in [(100_000, 100_000), (1 << 30, 1 << 30), (i32::MAX as u32, 1)] {
            let err = decode_png(&png_claiming(w, h), Path::new("huge.png"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("huge.png: "), "{err}");
            assert!(err.contains(&format!("{w}×{h}")), "{err}");
            assert!(err.contains("at most 64 MiB"), "{err}");
        }
        // Within the budget the size is fine and the missing pixels are the error.
        let err = decode_png(&png_claiming(1024, 1024), Path::new("short.png"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("short.png: expected a PNG image"), "{err}");
    }

    #[test]
    fn png_round_trips_each_pixel_format() {
        let g16: Vec<u16> = (0..12).map(|i| i * 5000).collect();
        let d = decode_png(
            &encode_png(4, 3, PngPixels::Gray16(&g16)).unwrap(),
            Path::new("a.png"),
        )
        .unwrap();
        assert_eq!((d.width, d.height, d.channels, d.bit_depth), (4, 3, 1, 16));
        assert_eq!(d.samples, g16);
        let rgb: Vec<u8> = (0..36).map(|i| (i * 7) as u8).collect();
        let d = decode_png(
            &encode_png(4, 3, PngPixels::Rgb8(&rgb)).unwrap(),
            Path::new("b.png"),
        )
        .unwrap();
        assert_eq!((d.channels, d.bit_depth), (3, 8));
        assert_eq!(
            d.samples,
            rgb.iter().map(|&v| u16::from(v)).collect::<Vec<_>>()
        );
        let err = decode_png(b"\x89PNG\r\n\x1a\ngarbage", Path::new("c.png"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.png"), "{err}");
    }
}
