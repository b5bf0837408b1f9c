//! Label files: one view's labels written and read with the [`Encoding`] its task declares.
//!
//! A PNG sample `raw` holds the value `raw × scale + offset` (class and segment ids are stored as they
//! are); an `.npy` holds the values themselves, per-pixel outputs channel by channel (`C × H × W`); a
//! point-info field holds numbers in the view's JSON record. Reading checks everything a file could get
//! wrong (size, channels, bit depth, value count, ids) and names the file.

use std::path::Path;

use super::labels::Labels;
use super::layout::{decode_npy, decode_png, encode_npy_shaped, encode_png, PngPixels};
use super::Error;
use crate::spec::{Encoding, OutputKind, OutputShape};

/// The labels of one view stored in `bytes` (the file `path`), for a task with output `shape` on images
/// of side `size`.
pub fn decode(
    encoding: Encoding,
    shape: OutputShape,
    bytes: &[u8],
    path: &Path,
    size: usize,
) -> Result<Labels, Error> {
    match encoding {
        Encoding::Png {
            bits,
            scale,
            offset,
        } => decode_png_labels(bits, scale, offset, shape, bytes, path, size),
        Encoding::Npy { first } => {
            let values = decode_npy(bytes, path)?;
            let expected = if shape.kind.is_per_pixel() {
                shape_values(shape, size)
            } else {
                shape.size
            };
            let values = match first {
                Some(first) if values.len() >= first => values[..first].to_vec(),
                _ if values.len() == expected => values,
                _ => {
                    return Err(format_error(
                        path,
                        match first {
                            Some(first) => format!("at least {first} values"),
                            None => format!("{expected} values"),
                        },
                        format!("{} values", values.len()),
                    ))
                }
            };
            from_planar(shape, size, values, path)
        }
        Encoding::PointInfo { field } => {
            let json: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|source| Error::Json {
                    path: path.to_path_buf(),
                    source,
                })?;
            let value = json.get(field).ok_or_else(|| {
                format_error(path, format!("a field \"{field}\""), "no such field".into())
            })?;
            let mut values = Vec::new();
            flatten_numbers(value, &mut values).map_err(|found| {
                format_error(path, format!("numbers in \"{field}\""), found.into())
            })?;
            if values.len() != shape.size {
                return Err(format_error(
                    path,
                    format!("{} numbers in \"{field}\" for `{shape}`", shape.size),
                    format!("{}", values.len()),
                ));
            }
            Ok(Labels::Image {
                len: shape.size,
                values,
            })
        }
    }
}

/// The file of one view's labels (one sample of `labels`) in `encoding`, for images of side `size`.
/// Point-info fields are not written here: they belong to the view's record.
pub fn encode(encoding: Encoding, labels: &Labels, size: usize) -> Result<Vec<u8>, String> {
    match encoding {
        Encoding::Png {
            bits,
            scale,
            offset,
        } => {
            let (channels, raw): (usize, Vec<u16>) = match labels {
                Labels::Dense { channels, values } => {
                    let max = if bits == 8 { 255.0 } else { 65535.0 };
                    let quantise =
                        |v: f32| ((f64::from(v) - offset) / scale).round().clamp(0.0, max) as u16;
                    (*channels, values.iter().map(|&v| quantise(v)).collect())
                }
                Labels::PixelClasses { values, .. } | Labels::Segments { values } => {
                    let max = if bits == 8 { 255 } else { 65535 };
                    (1, values.iter().map(|&v| v.min(max) as u16).collect())
                }
                Labels::Image { .. } => {
                    return Err("a PNG stores per-pixel labels, not image-level ones".into())
                }
            };
            png_of(bits, channels, &raw, size).map_err(|e| e.to_string())
        }
        Encoding::Npy { .. } => Ok(match labels {
            Labels::Dense { channels, values } => {
                encode_npy_shaped(&to_planes(values, *channels), &[*channels, size, size])
            }
            Labels::PixelClasses { values, .. } | Labels::Segments { values } => {
                let as_f32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
                encode_npy_shaped(&as_f32, &[size, size])
            }
            Labels::Image { values, .. } => encode_npy_shaped(values, &[values.len()]),
        }),
        Encoding::PointInfo { field } => Err(format!(
            "labels stored in the point-info field \"{field}\" are part of the view's record"
        )),
    }
}

fn format_error(path: &Path, expected: String, found: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        expected,
        found,
    }
}

/// Values of a per-pixel output on `size × size` images.
fn shape_values(shape: OutputShape, size: usize) -> usize {
    match shape.kind {
        OutputKind::Dense => shape.size * size * size,
        _ => size * size,
    }
}

fn decode_png_labels(
    bits: u8,
    scale: f64,
    offset: f64,
    shape: OutputShape,
    bytes: &[u8],
    path: &Path,
    size: usize,
) -> Result<Labels, Error> {
    let img = decode_png(bytes, path)?;
    if img.width != size || img.height != size {
        return Err(format_error(
            path,
            format!("a {size}×{size} image"),
            format!("{}×{}", img.width, img.height),
        ));
    }
    if img.bit_depth != bits {
        return Err(format_error(
            path,
            format!("a {bits}-bit PNG"),
            format!("{}-bit", img.bit_depth),
        ));
    }
    let n = size * size;
    let sample = |i: usize, c: usize| img.samples[i * img.channels + c];
    match shape.kind {
        OutputKind::Dense => {
            let channels = shape.size;
            if img.channels < channels {
                return Err(format_error(
                    path,
                    format!("{channels} channels"),
                    format!("{}", img.channels),
                ));
            }
            let mut values = Vec::with_capacity(n * channels);
            for i in 0..n {
                for c in 0..channels {
                    values.push((f64::from(sample(i, c)) * scale + offset) as f32);
                }
            }
            Ok(Labels::Dense { channels, values })
        }
        OutputKind::PixelClasses => {
            let values: Vec<u32> = (0..n).map(|i| u32::from(sample(i, 0))).collect();
            if let Some(bad) = values.iter().find(|&&c| c as usize >= shape.size) {
                return Err(format_error(
                    path,
                    format!("class ids below {}", shape.size),
                    format!("{bad}"),
                ));
            }
            Ok(Labels::PixelClasses {
                classes: shape.size,
                values,
            })
        }
        OutputKind::PixelEmbedding => Ok(Labels::Segments {
            values: (0..n).map(|i| u32::from(sample(i, 0))).collect(),
        }),
        OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector => Err(format_error(
            path,
            format!("image-level labels of `{shape}`"),
            "a PNG".into(),
        )),
    }
}

/// Labels from `values` as an `.npy` holds them (per-pixel outputs channel by channel).
fn from_planar(
    shape: OutputShape,
    size: usize,
    values: Vec<f32>,
    path: &Path,
) -> Result<Labels, Error> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format_error(
            path,
            "finite numbers".into(),
            format!("{} at position {i}", values[i]),
        ));
    }
    let ids = |values: Vec<f32>| -> Result<Vec<u32>, Error> {
        values
            .into_iter()
            .map(|v| {
                if v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f32 {
                    Ok(v as u32)
                } else {
                    Err(format_error(
                        path,
                        "whole, non-negative ids".into(),
                        format!("{v}"),
                    ))
                }
            })
            .collect()
    };
    Ok(match shape.kind {
        OutputKind::Dense => Labels::Dense {
            channels: shape.size,
            values: interleave(&values, shape.size, size * size),
        },
        OutputKind::PixelClasses => {
            let values = ids(values)?;
            if let Some(bad) = values.iter().find(|&&c| c as usize >= shape.size) {
                return Err(format_error(
                    path,
                    format!("class ids below {}", shape.size),
                    format!("{bad}"),
                ));
            }
            Labels::PixelClasses {
                classes: shape.size,
                values,
            }
        }
        OutputKind::PixelEmbedding => Labels::Segments {
            values: ids(values)?,
        },
        OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector => Labels::Image {
            len: shape.size,
            values,
        },
    })
}

/// `C × n` planes to `n × C` interleaved values.
fn interleave(planes: &[f32], channels: usize, pixels: usize) -> Vec<f32> {
    let mut out = vec![0.0; channels * pixels];
    for c in 0..channels {
        for p in 0..pixels {
            out[p * channels + c] = planes[c * pixels + p];
        }
    }
    out
}

/// `n × C` interleaved values to `C × n` planes.
fn to_planes(values: &[f32], channels: usize) -> Vec<f32> {
    let pixels = values.len() / channels.max(1);
    let mut out = vec![0.0; values.len()];
    for p in 0..pixels {
        for c in 0..channels {
            out[c * pixels + p] = values[p * channels + c];
        }
    }
    out
}

/// A PNG of `channels` values per pixel: grey for one, RGB for two or three (unused channels zero), RGBA
/// for four.
fn png_of(
    bits: u8,
    channels: usize,
    raw: &[u16],
    size: usize,
) -> Result<Vec<u8>, png::EncodingError> {
    let n = size * size;
    let stored = match channels {
        1 => 1,
        2 | 3 => 3,
        _ => 4,
    };
    let mut samples = vec![0u16; n * stored];
    for i in 0..n {
        for c in 0..channels.min(stored) {
            samples[i * stored + c] = raw[i * channels + c];
        }
    }
    let bytes: Vec<u8>;
    let pixels = match (bits, stored) {
        (8, 1) => {
            bytes = samples.iter().map(|&v| v as u8).collect();
            PngPixels::Gray8(&bytes)
        }
        (8, 3) => {
            bytes = samples.iter().map(|&v| v as u8).collect();
            PngPixels::Rgb8(&bytes)
        }
        (8, _) => {
            bytes = samples.iter().map(|&v| v as u8).collect();
            PngPixels::Rgba8(&bytes)
        }
        (_, 1) => PngPixels::Gray16(&samples),
        (_, 3) => PngPixels::Rgb16(&samples),
        _ => PngPixels::Rgba16(&samples),
    };
    encode_png(size, size, pixels)
}

/// Appends every number (booleans as 0 and 1) of `value` to `out`, arrays in order and objects by key.
fn flatten_numbers(value: &serde_json::Value, out: &mut Vec<f32>) -> Result<(), &'static str> {
    match value {
        serde_json::Value::Number(n) => {
            let v = n.as_f64().ok_or("a number out of range")?;
            out.push(v as f32);
        }
        serde_json::Value::Bool(b) => out.push(f32::from(u8::from(*b))),
        serde_json::Value::Array(items) => {
            for item in items {
                flatten_numbers(item, out)?;
            }
        }
        serde_json::Value::Object(fields) => {
            for item in fields.values() {
                flatten_numbers(item, out)?;
            }
        }
        serde_json::Value::Null => return Err("null"),
        serde_json::Value::String(_) => return Err("a string"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPTH: OutputShape = OutputShape::new(OutputKind::Dense, 1);

    fn round_trip(encoding: Encoding, shape: OutputShape, labels: &Labels, size: usize) -> Labels {
        let bytes = encode(encoding, labels, size).unwrap();
        decode(encoding, shape, &bytes, Path::new("f"), size).unwrap()
    }

    #[test]
    fn png_values_are_scaled_and_offset() {
        let depth = Encoding::Png {
            bits: 16,
            scale: 1.0 / 512.0,
            offset: 0.0,
        };
        let metres = Labels::Dense {
            channels: 1,
            values: vec![0.0, 1.0, 2.5, 200.0],
        };
        // 200 m is beyond 65535/512 m and is stored as the largest value.
        assert_eq!(
            round_trip(depth, DEPTH, &metres, 2),
            Labels::Dense {
                channels: 1,
                values: vec![0.0, 1.0, 2.5, 65535.0 / 512.0]
            }
        );
        let normals = Encoding::Png {
            bits: 8,
            scale: 2.0 / 255.0,
            offset: -1.0,
        };
        let shape = OutputShape::new(OutputKind::Dense, 3);
        let unit = Labels::Dense {
            channels: 3,
            values: vec![-1.0, 0.0, 1.0],
        };
        let Labels::Dense { values, .. } = round_trip(normals, shape, &unit, 1) else {
            panic!("dense")
        };
        for (back, v) in values.iter().zip([-1.0f32, 0.0, 1.0]) {
            assert!((back - v).abs() <= 1.0 / 255.0, "{back} {v}");
        }
    }

    #[test]
    fn two_channels_go_in_red_and_green() {
        let curvature = Encoding::Png {
            bits: 8,
            scale: 32.0 / 127.5,
            offset: -32.0,
        };
        let shape = OutputShape::new(OutputKind::Dense, 2);
        let labels = Labels::Dense {
            channels: 2,
            values: vec![2.0, -1.0],
        };
        let bytes = encode(curvature, &labels, 1).unwrap();
        assert_eq!(decode_png(&bytes, Path::new("c")).unwrap().channels, 3);
        let Labels::Dense { values, .. } = round_trip(curvature, shape, &labels, 1) else {
            panic!("dense")
        };
        assert!((values[0] - 2.0).abs() < 0.13 && (values[1] + 1.0).abs() < 0.13);
    }

    #[test]
    fn ids_round_trip_and_are_checked() {
        let shape = OutputShape::new(OutputKind::PixelClasses, 17);
        let classes = Labels::PixelClasses {
            classes: 17,
            values: vec![0, 16, 3, 9],
        };
        assert_eq!(round_trip(Encoding::png(8), shape, &classes, 2), classes);
        assert_eq!(round_trip(Encoding::DEFAULT, shape, &classes, 2), classes);
        let out_of_range = encode(
            Encoding::png(8),
            &Labels::Segments {
                values: vec![40, 0, 0, 0],
            },
            2,
        )
        .unwrap();
        let error = decode(
            Encoding::png(8),
            shape,
            &out_of_range,
            Path::new("x.png"),
            2,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(error, "x.png: expected class ids below 17, found 40");
    }

    #[test]
    fn npy_holds_planes_and_vectors() {
        let shape = OutputShape::new(OutputKind::Dense, 2);
        let labels = Labels::Dense {
            channels: 2,
            values: vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0],
        };
        assert_eq!(round_trip(Encoding::DEFAULT, shape, &labels, 2), labels);
        let bytes = encode(Encoding::DEFAULT, &labels, 2).unwrap();
        // Channel by channel on disk.
        assert_eq!(
            decode_npy(&bytes, Path::new("n")).unwrap(),
            [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0]
        );
        assert_eq!(
            decode(Encoding::DEFAULT, shape, &bytes, Path::new("n.npy"), 3)
                .unwrap_err()
                .to_string(),
            "n.npy: expected 18 values, found 8 values"
        );
        let selected = OutputShape::new(OutputKind::Classes, 2);
        let all = Labels::Image {
            len: 3,
            values: vec![0.5, 0.25, 0.25],
        };
        let bytes = encode(Encoding::DEFAULT, &all, 1).unwrap();
        assert_eq!(
            decode(
                Encoding::Npy { first: Some(2) },
                selected,
                &bytes,
                Path::new("n"),
                1
            )
            .unwrap(),
            Labels::Image {
                len: 2,
                values: vec![0.5, 0.25]
            }
        );
    }

    #[test]
    fn point_info_fields_are_flattened_in_order() {
        let json = br#"{"camera": {"y": [3, 4], "x": 1}, "fixated": true, "name": "a"}"#;
        let shape = OutputShape::new(OutputKind::Vector, 3);
        let field = |name| Encoding::PointInfo { field: name };
        assert_eq!(
            decode(field("camera"), shape, json, Path::new("p.json"), 8).unwrap(),
            Labels::Image {
                len: 3,
                values: vec![1.0, 3.0, 4.0]
            }
        );
        let flag = OutputShape::new(OutputKind::MultiLabel, 1);
        assert_eq!(
            decode(field("fixated"), flag, json, Path::new("p.json"), 8).unwrap(),
            Labels::Image {
                len: 1,
                values: vec![1.0]
            }
        );
        assert_eq!(
            decode(field("name"), flag, json, Path::new("p.json"), 8)
                .unwrap_err()
                .to_string(),
            "p.json: expected numbers in \"name\", found a string"
        );
        assert!(decode(field("missing"), flag, json, Path::new("p.json"), 8).is_err());
    }

    #[test]
    fn files_of_the_wrong_kind_are_named() {
        let png = encode(
            Encoding::png(8),
            &Labels::Dense {
                channels: 1,
                values: vec![0.5; 4],
            },
            2,
        )
        .unwrap();
        let depth = Encoding::Png {
            bits: 16,
            scale: 1.0 / 512.0,
            offset: 0.0,
        };
        assert_eq!(
            decode(depth, DEPTH, &png, Path::new("d.png"), 2)
                .unwrap_err()
                .to_string(),
            "d.png: expected a 16-bit PNG, found 8-bit"
        );
        assert_eq!(
            decode(Encoding::png(8), DEPTH, &png, Path::new("d.png"), 4)
                .unwrap_err()
                .to_string(),
            "d.png: expected a 4×4 image, found 2×2"
        );
    }
}
