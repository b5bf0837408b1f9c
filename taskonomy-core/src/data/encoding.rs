//! Label files: one view's labels written and read with the [`Encoding`] its task declares.
//!
//! A PNG sample `raw` holds the value `raw × scale + offset` (class and segment ids are stored as they
//! are); an `.npy` holds the values themselves, per-pixel outputs channel by channel (`C × H × W`); a
//! point-info field holds numbers in the view's JSON record. Reading checks everything a file could get
//! wrong (size, channels, bit depth, value count, ids) and names the file.

use std::path::Path;

use super::labels::Labels;
use super::layout::{decode_npy, decode_png, encode_npy_shaped, encode_png, NpyArray, PngPixels};
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
    // A declaration's encoding was checked when it compiled, but a task can also be described by hand.
    encoding
        .fits(shape)
        .map_err(|e| format_error(path, format!("labels of `{shape}`"), e.to_string()))?;
    match encoding {
        Encoding::Png {
            bits,
            scale,
            offset,
        } => decode_png_labels(bits, scale, offset, shape, bytes, path, size),
        Encoding::Npy { first } => {
            let NpyArray {
                shape: dims,
                mut values,
            } = decode_npy(bytes, path)?;
            match first {
                Some(first) => {
                    if values.len() < first {
                        return Err(format_error(
                            path,
                            format!("at least {first} values"),
                            format!("{} values", values.len()),
                        ));
                    }
                    values.truncate(first);
                }
                None => check_npy_shape(shape, size, &dims).map_err(|expected| {
                    format_error(path, expected, format!("shape {}", npy_dims(&dims)))
                })?,
            }
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

/// Checks that an `.npy` of shape `dims` holds one view's labels of `shape` on `size × size` images as
/// [`encode`] writes them: per-pixel values channel by channel (`C × H × W`, or `H × W` for one
/// channel and for ids), image-level values in any shape of the right count. An `H × W × C` array has
/// the right number of values too, so the shape, not the count, is what keeps its channels apart.
fn check_npy_shape(shape: OutputShape, size: usize, dims: &[usize]) -> Result<(), String> {
    let count: usize = dims.iter().product();
    let fits = match shape.kind {
        OutputKind::Dense => {
            let channels = shape.size;
            dims == [channels, size, size] || (channels == 1 && dims == [size, size])
        }
        OutputKind::PixelClasses | OutputKind::PixelEmbedding => {
            dims == [size, size] || dims == [1, size, size]
        }
        OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector => count == shape.size,
    };
    if fits {
        return Ok(());
    }
    Err(match shape.kind {
        OutputKind::Dense if shape.size == 1 => format!("an array of shape {size}×{size}"),
        OutputKind::Dense => format!(
            "an array of shape {}×{size}×{size} (channels first)",
            shape.size
        ),
        OutputKind::PixelClasses | OutputKind::PixelEmbedding => {
            format!("an array of ids of shape {size}×{size}")
        }
        _ => format!("{} values", shape.size),
    })
}

fn npy_dims(dims: &[usize]) -> String {
    if dims.is_empty() {
        return "() (a scalar)".into();
    }
    let dims: Vec<String> = dims.iter().map(usize::to_string).collect();
    dims.join("×")
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
            let max = if bits == 8 { 255 } else { 65535 };
            let (channels, raw): (usize, Vec<u16>) = match labels {
                Labels::Dense { channels, values } => {
                    // Values beyond the encoding's range are stored as its nearest end, as the
                    // Taskonomy dataset stores depth beyond 128 m.
                    let quantise = |v: f32| {
                        ((f64::from(v) - offset) / scale)
                            .round()
                            .clamp(0.0, f64::from(max)) as u16
                    };
                    (*channels, values.iter().map(|&v| quantise(v)).collect())
                }
                Labels::PixelClasses { values, .. } => {
                    check_ids(values, max, "class")?;
                    (1, values.iter().map(|&id| id as u16).collect())
                }
                Labels::Segments { values } => {
                    let values = segments_within(values, max);
                    check_ids(&values, max, "segment")?;
                    (1, values.iter().map(|&id| id as u16).collect())
                }
                Labels::Image { .. } => {
                    return Err("a PNG stores per-pixel labels, not image-level ones".into())
                }
            };
            png_of(bits, channels, &raw, size)
        }
        Encoding::Npy { .. } => {
            // `f32` holds every whole number up to 2²⁴ exactly.
            const EXACT_IN_F32: u32 = 1 << 24;
            let ids = |values: &[u32], what| -> Result<Vec<f32>, String> {
                check_ids(values, EXACT_IN_F32, what)?;
                Ok(values.iter().map(|&id| id as f32).collect())
            };
            Ok(match labels {
                Labels::Dense { channels, values } => {
                    encode_npy_shaped(&to_planes(values, *channels), &[*channels, size, size])
                }
                Labels::PixelClasses { values, .. } => {
                    encode_npy_shaped(&ids(values, "class")?, &[size, size])
                }
                Labels::Segments { values } => encode_npy_shaped(
                    &ids(&segments_within(values, EXACT_IN_F32), "segment")?,
                    &[size, size],
                ),
                Labels::Image { values, .. } => encode_npy_shaped(values, &[values.len()]),
            })
        }
        Encoding::PointInfo { field } => Err(format!(
            "labels stored in the point-info field \"{field}\" are part of the view's record"
        )),
    }
}

/// Checks that every id of `ids` is at most `max`: an id beyond the encoding's range is an error, never
/// clamped into another id.
fn check_ids(ids: &[u32], max: u32, what: &str) -> Result<(), String> {
    match ids.iter().find(|&&id| id > max) {
        Some(id) => Err(format!(
            "{what} id {id} is beyond {max}, the largest the encoding can store"
        )),
        None => Ok(()),
    }
}

/// Segment ids are only compared, so a view whose ids go beyond `max` is renumbered 0, 1, 2, … in the
/// order its segments first appear; a view within `max` is stored as it is.
fn segments_within(ids: &[u32], max: u32) -> std::borrow::Cow<'_, [u32]> {
    if ids.iter().all(|&id| id <= max) {
        return ids.into();
    }
    let mut renumbered = std::collections::HashMap::new();
    ids.iter()
        .map(|&id| {
            let next = renumbered.len() as u32;
            *renumbered.entry(id).or_insert(next)
        })
        .collect::<Vec<u32>>()
        .into()
}

fn format_error(path: &Path, expected: String, found: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        expected,
        found,
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
        OutputKind::PixelClasses | OutputKind::PixelEmbedding => {
            // Ids are grey levels. A colour-coded segmentation would merge every segment that shares a
            // red value, so colour channels must agree (alpha, the last of two or four, is ignored).
            let colours = if img.channels >= 3 { 3 } else { 1 };
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                let id = sample(i, 0);
                if let Some(c) = (1..colours).find(|&c| sample(i, c) != id) {
                    return Err(format_error(
                        path,
                        "ids as grey levels (equal colour channels)".into(),
                        format!(
                            "pixel {i} with channel 0 at {id} and channel {c} at {}",
                            sample(i, c)
                        ),
                    ));
                }
                values.push(u32::from(id));
            }
            if shape.kind == OutputKind::PixelEmbedding {
                return Ok(Labels::Segments { values });
            }
            check_classes(&values, shape.size, path)?;
            Ok(Labels::PixelClasses {
                classes: shape.size,
                values,
            })
        }
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
            check_classes(&values, shape.size, path)?;
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

/// Checks that every id of a file of class labels is below `classes`.
fn check_classes(ids: &[u32], classes: usize, path: &Path) -> Result<(), Error> {
    match ids.iter().find(|&&id| id as usize >= classes) {
        Some(id) => Err(format_error(
            path,
            format!("class ids below {classes}"),
            format!("{id}"),
        )),
        None => Ok(()),
    }
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
fn png_of(bits: u8, channels: usize, raw: &[u16], size: usize) -> Result<Vec<u8>, String> {
    let n = size * size;
    let stored = match channels {
        1 => 1,
        2 | 3 => 3,
        4 => 4,
        _ => return Err(format!("a PNG holds at most 4 channels, not {channels}")),
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
    encode_png(size, size, pixels).map_err(|e| e.to_string())
}

/// Appends every number (booleans as 0 and 1) of `value` to `out`, arrays in order and objects by key
/// name.
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
            // Sorted here, not by the map: serde_json keeps insertion order when any crate of the
            // build enables its `preserve_order` feature.
            let mut fields: Vec<_> = fields.iter().collect();
            fields.sort_by_key(|&(key, _)| key);
            for (_, item) in fields {
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
    fn segment_ids_beyond_the_encoding_are_renumbered_and_class_ids_refused() {
        let segments = OutputShape::new(OutputKind::PixelEmbedding, 8);
        let wide = Labels::Segments {
            values: vec![70_000, 3, 70_000, 1 << 30],
        };
        for encoding in [Encoding::png(8), Encoding::png(16), Encoding::DEFAULT] {
            assert_eq!(
                round_trip(encoding, segments, &wide, 2),
                Labels::Segments {
                    values: vec![0, 1, 0, 2]
                },
                "{encoding:?}"
            );
        }
        // Ids within the encoding are stored as they are.
        let narrow = Labels::Segments {
            values: vec![200, 3, 200, 7],
        };
        assert_eq!(round_trip(Encoding::png(8), segments, &narrow, 2), narrow);
        // 257 segments do not fit 8 bits however they are numbered.
        let many = Labels::Segments {
            values: (0..289).map(|i| i * 1000).collect(),
        };
        assert_eq!(
            encode(Encoding::png(8), &many, 17).unwrap_err(),
            "segment id 256 is beyond 255, the largest the encoding can store"
        );
        let classes = Labels::PixelClasses {
            classes: 300,
            values: vec![299, 0, 0, 0],
        };
        assert_eq!(
            encode(Encoding::png(8), &classes, 2).unwrap_err(),
            "class id 299 is beyond 255, the largest the encoding can store"
        );
    }

    #[test]
    fn colour_coded_ids_are_refused() {
        let rgb = Labels::Dense {
            channels: 3,
            values: vec![5.0, 5.0, 5.0, 1.0, 2.0, 1.0],
        };
        let png = encode(Encoding::png(8), &rgb, 1).unwrap();
        let shape = OutputShape::new(OutputKind::PixelClasses, 8);
        assert_eq!(
            decode(Encoding::png(8), shape, &png, Path::new("s.png"), 1).unwrap(),
            Labels::PixelClasses {
                classes: 8,
                values: vec![5]
            }
        );
        let png = encode(
            Encoding::png(8),
            &Labels::Dense {
                channels: 3,
                values: vec![1.0, 2.0, 1.0],
            },
            1,
        )
        .unwrap();
        assert_eq!(
            decode(Encoding::png(8), shape, &png, Path::new("s.png"), 1)
                .unwrap_err()
                .to_string(),
            "s.png: expected ids as grey levels (equal colour channels), \
             found pixel 0 with channel 0 at 1 and channel 1 at 2"
        );
    }

    #[test]
    fn an_encoding_that_does_not_fit_the_output_is_an_error_not_a_panic() {
        let npy = encode(
            Encoding::DEFAULT,
            &Labels::Image {
                len: 2,
                values: vec![1.0, 2.0],
            },
            2,
        )
        .unwrap();
        let error = decode(
            Encoding::Npy { first: Some(2) },
            DEPTH,
            &npy,
            Path::new("f.npy"),
            2,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("f.npy: expected labels of `Dense<1>`, found "),
            "{error}"
        );
        assert!(encode(
            Encoding::png(8),
            &Labels::Dense {
                channels: 5,
                values: vec![0.0; 5]
            },
            1
        )
        .is_err());
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
            NpyArray {
                shape: vec![2, 2, 2],
                values: vec![1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0]
            }
        );
        assert_eq!(
            decode(Encoding::DEFAULT, shape, &bytes, Path::new("n.npy"), 3)
                .unwrap_err()
                .to_string(),
            "n.npy: expected an array of shape 2×3×3 (channels first), found shape 2×2×2"
        );
        // Channels last has the right number of values, and would scramble the channels.
        let rgb = OutputShape::new(OutputKind::Dense, 3);
        let channels_last = encode_npy_shaped(&[0.0; 12], &[2, 2, 3]);
        assert_eq!(
            decode(
                Encoding::DEFAULT,
                rgb,
                &channels_last,
                Path::new("c.npy"),
                2
            )
            .unwrap_err()
            .to_string(),
            "c.npy: expected an array of shape 3×2×2 (channels first), found shape 2×2×3"
        );
        // One channel may drop its axis.
        let flat = encode_npy_shaped(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        assert_eq!(
            decode(Encoding::DEFAULT, DEPTH, &flat, Path::new("d.npy"), 2).unwrap(),
            Labels::Dense {
                channels: 1,
                values: vec![1.0, 2.0, 3.0, 4.0]
            }
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
