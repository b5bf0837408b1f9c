//! Readers of outside data survive hostile files: whatever the bytes, a PNG, an `.npy` vector, a point-info
//! JSON, a task's label file in its declared encoding, a transfer table or a weight file reads as a value
//! or as an error that names the file; never a panic, never an allocation sized by what a header merely
//! claims, never an arithmetic overflow.
//!
//! Each reader meets arbitrary bytes, damaged copies of a valid file written by the library's own encoder
//! (flipped bytes, truncations, splices), and the concrete inputs that once broke it. Case counts keep the
//! whole file to a few seconds in a debug build.

use std::fmt::{Debug, Display};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use taskonomy::data::dataset::Dataset;
use taskonomy::data::encoding;
use taskonomy::data::labels::geometry::RoomBox;
use taskonomy::data::labels::Labels;
use taskonomy::data::layout::{
    decode_npy, decode_png, encode_npy, encode_png, point_info_path, rgb_path, PngPixels,
    PointInfo, VanishingPointsJson, ViewKey,
};
use taskonomy::data::rng::Rng;
use taskonomy::model::device::{cpu, Cpu};
use taskonomy::model::layers::Dense;
use taskonomy::model::params::{
    from_safetensors, load_safetensors, save_safetensors, to_safetensors,
};
use taskonomy::spec::{Encoding, OutputKind, OutputShape};
use taskonomy::transfers::{Transfer, Transfers};

const PNG_NAME: &str = "hostile/rgb/point_0_view_0_domain_rgb.png";
const NPY_NAME: &str = "hostile/class_scene/point_0_view_0_domain_class_scene.npy";
const CSV_NAME: &str = "hostile/affinities.csv";
const WEIGHTS_NAME: &str = "hostile/weights.safetensors";

/// Fuzzing cases per property: enough to reach every branch of a reader within a few seconds, or
/// `PROPTEST_CASES` when set, to fuzz longer than CI does.
fn cases(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            cases
        },
        failure_persistence: None,
        ..default
    }
}

/// A reader's answer to damaged bytes is acceptable if it is a value, or an error whose message names the
/// file it was given.
fn value_or_error_naming<T, E: Display>(
    result: &Result<T, E>,
    name: &str,
) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let message = e.to_string();
        prop_assert!(
            message.contains(name),
            "the error does not name `{name}`: {message}"
        );
    }
    Ok(())
}

/// A reader's answer to garbage must be an error whose message names the file.
fn error_naming<T: Debug, E: Display>(
    result: &Result<T, E>,
    name: &str,
) -> Result<(), TestCaseError> {
    prop_assert!(
        result.is_err(),
        "garbage read as {:?}",
        result.as_ref().ok()
    );
    value_or_error_naming(result, name)
}

/// Arbitrary bytes, half of them behind `magic` so that they get past a reader's first check.
fn bytes_behind(magic: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), prop::collection::vec(any::<u8>(), 0..256)).prop_map(move |(behind, rest)| {
        if behind {
            [magic, &rest].concat()
        } else {
            rest
        }
    })
}

/// One way a file gets damaged.
#[derive(Clone, Debug)]
enum Damage {
    /// The byte at `at` (modulo the length) XORed with a non-zero `mask`.
    Flip { at: usize, mask: u8 },
    /// Only the first `len` bytes (modulo the length + 1) kept.
    Truncate { len: usize },
    /// Up to `remove` bytes at `at` replaced by `insert`.
    Splice {
        at: usize,
        remove: usize,
        insert: Vec<u8>,
    },
}

fn damage() -> impl Strategy<Value = Damage> {
    // Besides noise, what breaks readers: digits that make sizes huge, and all-ones or all-zeros lengths.
    let insert = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..8),
        Just(b"99999999999".to_vec()),
        Just(vec![0xff; 4]),
        Just(vec![0; 4]),
    ];
    prop_oneof![
        3 => (any::<usize>(), 1..=u8::MAX).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        1 => any::<usize>().prop_map(|len| Damage::Truncate { len }),
        2 => (any::<usize>(), 0..8usize, insert)
            .prop_map(|(at, remove, insert)| Damage::Splice { at, remove, insert }),
    ]
}

fn damages() -> impl Strategy<Value = Vec<Damage>> {
    prop::collection::vec(damage(), 1..4)
}

fn damaged(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for damage in damages {
        match damage {
            Damage::Flip { at, mask } => {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] ^= mask;
                }
            }
            Damage::Truncate { len } => bytes.truncate(len % (bytes.len() + 1)),
            Damage::Splice { at, remove, insert } => {
                let at = at % (bytes.len() + 1);
                let end = (at + remove).min(bytes.len());
                bytes.splice(at..end, insert.iter().copied());
            }
        }
    }
    bytes
}

// PNG ------------------------------------------------------------------------------------------------------

/// A valid PNG of `width × height` in one of the three pixel formats the library writes.
fn valid_png(format: u8, width: usize, height: usize) -> Vec<u8> {
    let n = width * height;
    let png = match format {
        0 => encode_png(width, height, PngPixels::Gray8(&vec![7; n])),
        1 => {
            let samples: Vec<u16> = (0..n).map(|i| (i * 4099) as u16).collect();
            encode_png(width, height, PngPixels::Gray16(&samples))
        }
        _ => {
            let samples: Vec<u8> = (0..3 * n).map(|i| (i * 31) as u8).collect();
            encode_png(width, height, PngPixels::Rgb8(&samples))
        }
    };
    png.expect("the test's own image encodes")
}

/// The CRC-32 of PNG chunks (ISO 3309, as the PNG specification gives it).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Recomputes every chunk's CRC, so that damage inside a chunk reaches the decoder's reading of it instead
/// of stopping at the checksum.
fn repair_crcs(bytes: &mut [u8]) {
    let mut at = 8;
    while let Some(&[a, b, c, d]) = bytes.get(at..at + 4) {
        let end = at + 8 + u32::from_be_bytes([a, b, c, d]) as usize;
        if end + 4 > bytes.len() {
            break;
        }
        let crc = crc32(&bytes[at + 4..end]);
        bytes[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

/// A valid 1×1 RGB PNG whose header then claims `width × height`, with the header's CRC recomputed: the
/// decoder knows the size before it reads any pixel.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = valid_png(2, 1, 1);
    // Signature (8), IHDR length (4) and type (4), then width and height.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    repair_crcs(&mut png);
    png
}

#[test]
fn a_png_header_claiming_100000_by_100000_pixels_is_an_error_not_an_allocation() {
    let err = decode_png(&png_claiming(100_000, 100_000), Path::new(PNG_NAME)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{PNG_NAME}: expected a PNG that decodes in at most 64 MiB, \
             found a 100000×100000 image that needs more"
        )
    );
}

#[test]
fn a_png_header_claiming_rows_longer_than_the_budget_is_the_same_error() {
    let err = decode_png(&png_claiming(i32::MAX as u32, 1), Path::new(PNG_NAME)).unwrap_err();
    assert!(err.to_string().contains("2147483647×1 image"), "{err}");
}

#[test]
fn a_png_cut_short_names_the_file() {
    let png = valid_png(1, 8, 8);
    let err = decode_png(&png[..png.len() - 20], Path::new(PNG_NAME)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{PNG_NAME}: expected a PNG image")),
        "{err}"
    );
}

proptest! {
    #![proptest_config(cases(1024))]

    #[test]
    fn any_bytes_read_as_a_png_are_an_error_naming_the_file(
        bytes in bytes_behind(b"\x89PNG\r\n\x1a\n"),
    ) {
        error_naming(&decode_png(&bytes, Path::new(PNG_NAME)), PNG_NAME)?;
    }

    /// With the CRCs repaired half of the time, the damage reaches the header, the zlib stream and the
    /// row filters; an image that still decodes has one sample per pixel and channel.
    #[test]
    fn a_damaged_png_decodes_or_is_an_error_naming_the_file(
        format in 0..3u8,
        width in 1..12usize,
        height in 1..12usize,
        damages in damages(),
        repair in any::<bool>(),
    ) {
        let mut png = damaged(valid_png(format, width, height), &damages);
        if repair {
            repair_crcs(&mut png);
        }
        let result = decode_png(&png, Path::new(PNG_NAME));
        value_or_error_naming(&result, PNG_NAME)?;
        if let Ok(img) = result {
            prop_assert_eq!(img.samples.len(), img.width * img.height * img.channels);
        }
    }
}

// .npy -----------------------------------------------------------------------------------------------------

/// An `.npy` file of format `version` with `header` as its header, followed by `data`.
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

#[test]
fn an_npy_shape_whose_size_overflows_is_an_error_naming_the_file() {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }";
    let err = decode_npy(&npy_file(1, header, &[0; 16]), Path::new(NPY_NAME)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{NPY_NAME}: expected a little-endian float32/float64 .npy array, \
             found shape 99999999999×99999999999, more values than can be addressed"
        )
    );
}

/// 2⁶² float32 values are 2⁶⁴ bytes, which wraps to 0 in unchecked arithmetic: an empty file must not
/// pass for them.
#[test]
fn an_npy_shape_whose_byte_count_wraps_to_the_data_length_is_an_error() {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }";
    let err = decode_npy(&npy_file(1, header, &[]), Path::new(NPY_NAME)).unwrap_err();
    assert!(
        err.to_string()
            .contains("more values than can be addressed"),
        "{err}"
    );
}

proptest! {
    #![proptest_config(cases(1024))]

    #[test]
    fn any_bytes_read_as_npy_are_an_error_naming_the_file(
        bytes in bytes_behind(b"\x93NUMPY\x01\x00"),
    ) {
        error_naming(&decode_npy(&bytes, Path::new(NPY_NAME)), NPY_NAME)?;
    }

    #[test]
    fn a_damaged_npy_decodes_or_is_an_error_naming_the_file(
        values in prop::collection::vec(-1e6f32..1e6, 0..40),
        damages in damages(),
    ) {
        let npy = damaged(encode_npy(&values), &damages);
        value_or_error_naming(&decode_npy(&npy, Path::new(NPY_NAME)), NPY_NAME)?;
    }

    /// Headers as NumPy writes them, with any dtype, order and shape, over data of any length: what
    /// decodes is little-endian float data exactly as long as the header says.
    #[test]
    fn an_npy_header_of_any_dtype_and_shape_decodes_only_data_that_fits(
        version in 1..=3u8,
        descr in "[<>|=]?[fiub][1248]",
        fortran_order in prop_oneof![Just("False"), Just("True"), Just("0")],
        shape in prop::collection::vec(
            prop_oneof![0..5usize, any::<usize>(), Just(99_999_999_999usize)], 0..4),
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let dims: Vec<String> = shape.iter().map(|d| format!("{d},")).collect();
        let header = format!(
            "{{'descr': '{descr}', 'fortran_order': {fortran_order}, 'shape': ({}), }}",
            dims.join(" ")
        );
        let result = decode_npy(&npy_file(version, &header, &data), Path::new(NPY_NAME));
        value_or_error_naming(&result, NPY_NAME)?;
        if let Ok(array) = result {
            let values = array.values;
            let width = match descr.as_str() {
                "<f4" => 4,
                "<f8" => 8,
                other => return Err(TestCaseError::fail(format!("decoded dtype {other}"))),
            };
            prop_assert_eq!(fortran_order, "False");
            prop_assert_eq!(values.len() * width, data.len());
            prop_assert_eq!(values.len(), shape.iter().product::<usize>());
            prop_assert_eq!(array.shape, shape);
        }
    }
}

// Label files ----------------------------------------------------------------------------------------------

const LABEL_NAME: &str = "hostile/labels/point_0_view_0_domain_labels.png";
/// The side of the images the label files below belong to.
const SIDE: usize = 4;

/// An encoding as tasks declare them, with an output it fits.
fn declared() -> impl Strategy<Value = (Encoding, OutputShape)> {
    let dense = |c| OutputShape::new(OutputKind::Dense, c);
    prop_oneof![
        (1..=4usize).prop_map(move |c| (
            Encoding::Png {
                bits: 16,
                scale: 1.0 / 512.0,
                offset: 0.0
            },
            dense(c)
        )),
        (1..=4usize).prop_map(move |c| (
            Encoding::Png {
                bits: 8,
                scale: 2.0 / 255.0,
                offset: -1.0
            },
            dense(c)
        )),
        (2..300usize).prop_map(|k| (
            Encoding::png(16),
            OutputShape::new(OutputKind::PixelClasses, k)
        )),
        Just((
            Encoding::png(8),
            OutputShape::new(OutputKind::PixelEmbedding, 8)
        )),
        (1..4usize).prop_map(move |c| (Encoding::DEFAULT, dense(c))),
        (2..20usize).prop_map(|k| (
            Encoding::DEFAULT,
            OutputShape::new(OutputKind::PixelClasses, k)
        )),
        (2..20usize).prop_map(|k| (
            Encoding::Npy { first: Some(k) },
            OutputShape::new(OutputKind::Classes, k)
        )),
        (1..12usize).prop_map(|n| (
            Encoding::PointInfo { field: "values" },
            OutputShape::new(OutputKind::Vector, n)
        )),
    ]
}

/// A valid label file of `encoding` for `shape` on `SIDE × SIDE` images, written by the library.
fn valid_label_file(encoding: Encoding, shape: OutputShape, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed, &[]);
    let pixels = SIDE * SIDE;
    let labels = match shape.kind {
        OutputKind::Dense => Labels::Dense {
            channels: shape.size,
            values: (0..pixels * shape.size)
                .map(|_| rng.range(-1.0, 1.0) as f32)
                .collect(),
        },
        OutputKind::PixelClasses => Labels::PixelClasses {
            classes: shape.size,
            values: (0..pixels).map(|_| rng.below(shape.size) as u32).collect(),
        },
        OutputKind::PixelEmbedding => Labels::Segments {
            values: (0..pixels).map(|_| rng.below(8) as u32).collect(),
        },
        _ => Labels::Image {
            len: shape.size,
            values: (0..shape.size).map(|_| rng.unit() as f32).collect(),
        },
    };
    match encoding {
        Encoding::PointInfo { field } => {
            let Labels::Image { values, .. } = labels else {
                unreachable!("point-info labels are image-level")
            };
            serde_json::to_vec(&serde_json::json!({ field: values })).unwrap()
        }
        _ => encoding::encode(encoding, &labels, SIDE).unwrap(),
    }
}

proptest! {
    #![proptest_config(cases(512))]

    /// Garbage in a task's folder is an error naming the file, whatever the task declared.
    #[test]
    fn any_bytes_read_as_a_label_file_are_an_error_naming_the_file(
        (encoding, shape) in declared(),
        bytes in prop_oneof![
            bytes_behind(b"\x89PNG\r\n\x1a\n"),
            bytes_behind(b"\x93NUMPY"),
            bytes_behind(b"{\"values\": "),
        ],
    ) {
        let result = encoding::decode(encoding, shape, &bytes, Path::new(LABEL_NAME), SIDE);
        value_or_error_naming(&result, LABEL_NAME)?;
    }

    /// A damaged label file reads as labels of the declared form, or as an error naming the file.
    #[test]
    fn a_damaged_label_file_reads_as_labels_of_its_task_or_is_an_error_naming_it(
        (encoding, shape) in declared(),
        seed in any::<u64>(),
        damages in damages(),
    ) {
        let bytes = damaged(valid_label_file(encoding, shape, seed), &damages);
        let result = encoding::decode(encoding, shape, &bytes, Path::new(LABEL_NAME), SIDE);
        value_or_error_naming(&result, LABEL_NAME)?;
        if let Ok(labels) = result {
            prop_assert_eq!(labels.count(SIDE), 1, "{:?}", labels);
        }
    }
}

#[test]
fn valid_label_files_read_back() {
    let shapes = [
        (Encoding::DEFAULT, OutputShape::new(OutputKind::Dense, 3)),
        (
            Encoding::png(16),
            OutputShape::new(OutputKind::PixelClasses, 300),
        ),
        (
            Encoding::PointInfo { field: "values" },
            OutputShape::new(OutputKind::Vector, 5),
        ),
    ];
    for (encoding, shape) in shapes {
        let bytes = valid_label_file(encoding, shape, 7);
        let labels = encoding::decode(encoding, shape, &bytes, Path::new(LABEL_NAME), SIDE)
            .unwrap_or_else(|e| panic!("{encoding}: {e}"));
        assert_eq!(labels.count(SIDE), 1, "{encoding}");
    }
}

// Point-info JSON ------------------------------------------------------------------------------------------

const KEY: ViewKey = ViewKey { point: 0, view: 0 };

/// A dataset of one view whose point-info file each case writes; the reader under test is
/// [`Dataset::read_point_info`], the one that names the file.
struct OneView {
    root: PathBuf,
    dataset: Dataset,
}

impl OneView {
    fn new(test: &str) -> OneView {
        let root =
            std::env::temp_dir().join(format!("taskonomy-fuzz-{test}-{}", std::process::id()));
        let rgb = rgb_path(&root, "b", KEY);
        std::fs::create_dir_all(rgb.parent().unwrap()).unwrap();
        std::fs::write(&rgb, valid_png(0, 2, 2)).unwrap();
        let info = point_info_path(&root, "b", KEY);
        std::fs::create_dir_all(info.parent().unwrap()).unwrap();
        let dataset = Dataset::open(&root).unwrap();
        OneView { root, dataset }
    }

    fn file_name(&self) -> String {
        point_info_path(&self.root, "b", KEY).display().to_string()
    }

    fn read(&self, bytes: &[u8]) -> Result<PointInfo, taskonomy::data::Error> {
        std::fs::write(point_info_path(&self.root, "b", KEY), bytes).unwrap();
        self.dataset.read_point_info(0, KEY)
    }
}

impl Drop for OneView {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn valid_point_info() -> Vec<u8> {
    let info = PointInfo {
        building: "b".into(),
        point_uuid: "0".into(),
        view_id: 0,
        camera_uuid: "c".into(),
        camera_location: [1.0, 2.0, 1.5],
        camera_rotation_final: [1.2, 0.0, 0.3],
        field_of_view_rads: 1.0,
        resolution: 64,
        point_location: Some([2.0, 3.0, 1.0]),
        camera_distance: 1.7,
        obliqueness_angle: 0.4,
        nonfixated_points_in_view: vec!["1".into()],
        fixated: true,
        room_type: Some("kitchen".into()),
        room_box: Some(RoomBox {
            center: [0.0, 0.0, 1.4],
            half_extents: [3.0, 2.0, 1.4],
            axes: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        }),
        vanishing_points_gaussian_sphere: Some(VanishingPointsJson {
            x: [1.0, 0.0, 0.0],
            y: [0.0, 1.0, 0.0],
            z: [0.0, 0.0, 1.0],
        }),
    };
    serde_json::to_vec_pretty(&info).unwrap()
}

/// Every number a point-info file holds, so that tests can state they are finite.
fn numbers(info: &PointInfo) -> Vec<f64> {
    let mut out = vec![
        info.field_of_view_rads,
        info.camera_distance,
        info.obliqueness_angle,
    ];
    out.extend(info.camera_location);
    out.extend(info.camera_rotation_final);
    out.extend(info.point_location.into_iter().flatten());
    if let Some(room) = &info.room_box {
        out.extend(room.center);
        out.extend(room.half_extents);
        out.extend(room.axes.into_iter().flatten());
    }
    if let Some(vp) = &info.vanishing_points_gaussian_sphere {
        out.extend(vp.x.into_iter().chain(vp.y).chain(vp.z));
    }
    out
}

#[test]
fn point_info_numbers_out_of_range_and_deep_nesting_are_errors_naming_the_file() {
    let view = OneView::new("point-info-weird");
    let name = view.file_name();
    let with = |field: &str, value: &str| {
        format!(
            r#"{{"camera_location": [0, 0, 0], "camera_rotation_final": [0, 0, 0],
                "field_of_view_rads": 1, "{field}": {value}}}"#
        )
    };
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for text in [
        with("camera_distance", "1e400"),
        with("camera_distance", "-1e400"),
        with("camera_distance", &format!("1{}", "0".repeat(400))),
        with("camera_distance", "NaN"),
        with("camera_distance", "Infinity"),
        with("view_id", "4294967296"),
        with("view_id", "-1"),
        with("view_id", "1.5"),
        with("room_box", &deep),
        with("camera_location", "[0, 0, 0]"),
        with("point_location", "[0, 0, 0, 0]"),
        format!("\u{feff}{}", with("view_id", "1")),
        "{".repeat(100_000),
    ] {
        let err = view.read(text.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with(&name), "{err}");
    }
    // A field the reader does not know is skipped with a loop, not recursion, however deep it nests.
    assert!(view.read(with("unknown_field", &deep).as_bytes()).is_ok());
}

#[test]
fn point_info_numbers_below_the_smallest_double_read_as_zero() {
    let view = OneView::new("point-info-tiny");
    let text = r#"{"camera_location": [1e-400, -0.0, 0], "camera_rotation_final": [0, 0, 0],
                   "field_of_view_rads": 1}"#;
    assert_eq!(
        view.read(text.as_bytes()).unwrap().camera_location,
        [0.0; 3]
    );
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn any_bytes_read_as_point_info_are_an_error_naming_the_file(
        bytes in bytes_behind(b"{\"camera_location\": "),
    ) {
        let view = OneView::new("point-info-any");
        error_naming(&view.read(&bytes), &view.file_name())?;
    }

    /// A point-info file that still reads after the damage holds only finite numbers.
    #[test]
    fn a_damaged_point_info_reads_or_is_an_error_naming_the_file(damages in damages()) {
        let view = OneView::new("point-info-damaged");
        let result = view.read(&damaged(valid_point_info(), &damages));
        value_or_error_naming(&result, &view.file_name())?;
        if let Ok(info) = result {
            prop_assert!(numbers(&info).iter().all(|v| v.is_finite()), "{info:?}");
        }
    }

    /// Numbers of any length and exponent: a file reads only if each is a finite double.
    #[test]
    fn point_info_numbers_of_any_size_read_as_finite_doubles_or_not_at_all(
        number in "-?[0-9]{1,400}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{1,4})?",
    ) {
        let view = OneView::new("point-info-numbers");
        let text = format!(
            r#"{{"camera_location": [{number}, 0, 0], "camera_rotation_final": [0, 0, 0],
                "field_of_view_rads": {number}}}"#
        );
        let result = view.read(text.as_bytes());
        value_or_error_naming(&result, &view.file_name())?;
        if let Ok(info) = result {
            prop_assert!(info.field_of_view_rads.is_finite());
            prop_assert!(info.camera_location[0].is_finite());
        }
    }
}

// Transfer tables ------------------------------------------------------------------------------------------

fn valid_table() -> Transfers {
    Transfers::from_rows(
        "memory",
        vec![
            Transfer::new(&["rgb2sfnorm"], "rgb2depth", 0.0914),
            Transfer::new(&["curvature", "rgb2sfnorm"], "rgb2depth", 0.1012),
            Transfer::new(&["self"], "rgb2depth", 0.2718),
            Transfer::new(&["random"], "edge2d", 1e-5),
        ],
    )
    .unwrap()
}

/// A table that reads writes back as text that reads as the same transfers.
fn round_trips(table: &Transfers) -> Result<(), TestCaseError> {
    let again = Transfers::parse(&table.to_csv(), CSV_NAME);
    prop_assert!(again.is_ok(), "{:?}", again.as_ref().err());
    let rows = |t: &Transfers| -> Vec<(Vec<String>, String, f64)> {
        t.rows()
            .iter()
            .map(|r| (r.sources.clone(), r.target.clone(), r.value))
            .collect()
    };
    if let Ok(again) = again {
        prop_assert_eq!(rows(&again), rows(table));
    }
    Ok(())
}

#[test]
fn a_table_saved_with_a_byte_order_mark_reads() {
    let text = format!("\u{feff}{}", valid_table().to_csv());
    let table = Transfers::parse(&text, CSV_NAME).unwrap();
    assert_eq!(table.rows().len(), 4);
}

proptest! {
    #![proptest_config(cases(1024))]

    #[test]
    fn any_text_read_as_a_table_is_an_error_naming_the_file(text in any::<String>()) {
        error_naming(&Transfers::parse(&text, CSV_NAME), CSV_NAME)?;
    }

    /// Rows of table-like characters under a valid header: a table, or an error naming the file.
    #[test]
    fn table_like_text_reads_or_is_an_error_naming_the_file(
        rows in prop::collection::vec("[a-c+, 0-9.eE\\-\r\"]{0,24}", 0..12),
    ) {
        let text = format!("sources,target,order,value\n{}", rows.join("\n"));
        let result = Transfers::parse(&text, CSV_NAME);
        value_or_error_naming(&result, CSV_NAME)?;
        if let Ok(table) = result {
            round_trips(&table)?;
        }
    }

    #[test]
    fn a_damaged_table_reads_or_is_an_error_naming_the_file(damages in damages()) {
        let bytes = damaged(valid_table().to_csv().into_bytes(), &damages);
        let result = Transfers::parse(&String::from_utf8_lossy(&bytes), CSV_NAME);
        value_or_error_naming(&result, CSV_NAME)?;
        if let Ok(table) = result {
            round_trips(&table)?;
        }
    }
}

// Weight files ---------------------------------------------------------------------------------------------

/// Two dense layers: parameters `0.weight` (3×2), `0.bias` (2), `1.weight` (2×1), `1.bias` (1).
fn model(seed: u64) -> Vec<Dense<Cpu>> {
    let dev = cpu();
    let mut rng = Rng::new(seed, &[]);
    vec![
        Dense::new(&dev, 3, 2, &mut rng).unwrap(),
        Dense::new(&dev, 2, 1, &mut rng).unwrap(),
    ]
}

/// A safetensors file written by hand: `(name, dtype, shape, data)` per tensor, data in order.
fn safetensors_file(tensors: &[(&str, &str, &[usize], &[u8])]) -> Vec<u8> {
    let mut offset = 0;
    let entries: Vec<String> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            let entry = format!(
                r#""{name}": {{"dtype": "{dtype}", "shape": {shape:?}, "data_offsets": [{offset}, {}]}}"#,
                offset + data.len()
            );
            offset += data.len();
            entry
        })
        .collect();
    let header = format!("{{{}}}", entries.join(", "));
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    for (_, _, _, data) in tensors {
        out.extend_from_slice(data);
    }
    out
}

fn f32_bytes(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect()
}

/// Loads `bytes` into a fresh model and returns the error, checking the model kept its values.
fn load_error(bytes: &[u8]) -> String {
    let mut model = model(1);
    let before = to_safetensors(&model).unwrap();
    let err = from_safetensors(&mut model, bytes, WEIGHTS_NAME)
        .unwrap_err()
        .to_string();
    assert_eq!(
        to_safetensors(&model).unwrap(),
        before,
        "a refused file changed the model"
    );
    assert!(err.starts_with(&format!("{WEIGHTS_NAME}: ")), "{err}");
    err
}

#[test]
fn weights_round_trip_and_every_mismatch_is_an_error_naming_file_and_tensor() {
    let mut other = model(2);
    from_safetensors(
        &mut other,
        &to_safetensors(&model(1)).unwrap(),
        WEIGHTS_NAME,
    )
    .unwrap();
    assert_eq!(
        to_safetensors(&other).unwrap(),
        to_safetensors(&model(1)).unwrap()
    );

    let (w0, b0, w1, b1) = (f32_bytes(6), f32_bytes(2), f32_bytes(2), f32_bytes(1));
    let wrong_dtype = safetensors_file(&[
        ("0.weight", "F16", &[3, 2], &w0[..12]),
        ("0.bias", "F32", &[2], &b0),
        ("1.weight", "F32", &[2, 1], &w1),
        ("1.bias", "F32", &[1], &b1),
    ]);
    assert!(load_error(&wrong_dtype)
        .contains("tensor `0.weight`: expected F32 [3, 2], found F16 [3, 2]"));
    let wrong_shape = safetensors_file(&[
        ("0.weight", "F32", &[2, 3], &w0),
        ("0.bias", "F32", &[2], &b0),
        ("1.weight", "F32", &[2, 1], &w1),
        ("1.bias", "F32", &[1], &b1),
    ]);
    assert!(load_error(&wrong_shape).contains("found F32 [2, 3]"));
    let missing = safetensors_file(&[
        ("0.weight", "F32", &[3, 2], &w0),
        ("0.bias", "F32", &[2], &b0),
        ("1.weight", "F32", &[2, 1], &w1),
    ]);
    assert!(load_error(&missing).contains("tensor `1.bias` is missing"));
    // The later tensors are fine: a file is checked whole before anything is copied.
    let last_wrong = safetensors_file(&[
        ("0.weight", "F32", &[3, 2], &w0),
        ("0.bias", "F32", &[2], &b0),
        ("1.weight", "F32", &[2, 1], &w1),
        ("1.bias", "F64", &[1], &[0; 8]),
    ]);
    load_error(&last_wrong);
    let valid = to_safetensors(&model(3)).unwrap();
    assert!(load_error(&valid[..valid.len() - 1]).contains("expected a safetensors file"));
    assert!(load_error(b"").contains("expected a safetensors file"));
}

/// Sixteen byte tensors of 2⁶⁰ bytes each claim data up to `usize::MAX`; safetensors adds the header's
/// length to that unchecked.
#[test]
fn weight_offsets_that_overflow_the_address_space_are_an_error_naming_the_file() {
    let big = 1usize << 60;
    let entries: Vec<String> = (0..16)
        .map(|i| {
            let len = if i == 15 { big - 1 } else { big };
            format!(
                r#""t{i:02}": {{"dtype": "U8", "shape": [{len}], "data_offsets": [{}, {}]}}"#,
                i * big,
                i * big + len
            )
        })
        .collect();
    let header = format!("{{{}}}", entries.join(", "));
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    let err = load_error(&bytes);
    assert!(
        err.contains("ends at byte 18446744073709551615 of 0 data bytes"),
        "{err}"
    );
}

#[test]
fn a_weight_file_that_is_missing_or_garbage_is_an_error_naming_its_path() {
    let dir = std::env::temp_dir().join(format!("taskonomy-fuzz-weights-{}", std::process::id()));
    let path = dir.join("w.safetensors");
    let name = path.display().to_string();
    std::fs::create_dir_all(&dir).unwrap();
    let mut model = model(1);
    let err = load_safetensors(&mut model, &path).unwrap_err();
    assert!(err.to_string().starts_with(&name), "{err}");
    save_safetensors(&model, &path).unwrap();
    load_safetensors(&mut model, &path).unwrap();
    std::fs::write(&path, b"\xff\xff\xff\xff\xff\xff\xff\xff{}").unwrap();
    let err = load_safetensors(&mut model, &path).unwrap_err();
    assert!(err.to_string().starts_with(&name), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

proptest! {
    #![proptest_config(cases(512))]

    /// Garbage is refused and leaves the model as it was.
    #[test]
    fn any_bytes_read_as_weights_are_an_error_naming_the_file(
        bytes in bytes_behind(b"\x40\x00\x00\x00\x00\x00\x00\x00{\"0.bias\": "),
    ) {
        let mut model = model(1);
        let before = to_safetensors(&model).unwrap();
        error_naming(&from_safetensors(&mut model, &bytes, WEIGHTS_NAME), WEIGHTS_NAME)?;
        prop_assert_eq!(to_safetensors(&model).unwrap(), before);
    }

    /// A damaged file loads, or is refused whole: the model keeps every value it had.
    #[test]
    fn damaged_weights_load_or_are_an_error_naming_the_file(damages in damages()) {
        let bytes = damaged(to_safetensors(&model(7)).unwrap(), &damages);
        let mut model = model(1);
        let before = to_safetensors(&model).unwrap();
        let result = from_safetensors(&mut model, &bytes, WEIGHTS_NAME);
        value_or_error_naming(&result, WEIGHTS_NAME)?;
        if result.is_err() {
            prop_assert_eq!(to_safetensors(&model).unwrap(), before);
        }
    }
}
