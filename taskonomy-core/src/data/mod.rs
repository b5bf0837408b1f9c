//! Data: procedural indoor scenes with exact geometry, the Taskonomy folder layout, and one dataset type
//! that reads samples of any declared task from such a folder.
//!
//! The embedded default dataset: [`scene`] builds a room with furniture from a seed, [`camera`] places
//! cameras around "points" as Taskonomy did, [`render`] ray-casts every pixel, and [`synthetic`] writes
//! every view with the labels each task's label function computes from it ([`view`], [`labels`]), in the
//! released dataset's folder format ([`layout`], [`encoding`]). [`dataset`] reads samples of any task
//! from such a folder, rendered here or downloaded, one at a time: nothing but the file list is held in
//! memory.
//!
//! Frames: the world and room frames are z-up, metres; camera frames are x right, y up, z towards the viewer
//! (the camera looks along −z), as in the Taskonomy dataset's point-info files.

pub mod camera;
pub mod dataset;
pub mod encoding;
pub mod geometry;
pub mod labels;
pub mod layout;
pub mod math;
pub mod render;
pub mod rng;
pub mod scene;
pub mod sheet;
pub mod synthetic;
pub mod view;

use std::path::PathBuf;

/// What can go wrong reading or writing data; every message names the file and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A PNG could not be decoded.
    #[error("{}: expected a PNG image, but it could not be decoded: {source}", path.display())]
    Png {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: png::DecodingError,
    },
    /// A PNG could not be encoded.
    #[error("{}: could not encode the PNG: {source}", path.display())]
    PngEncode {
        /// The file being written.
        path: PathBuf,
        /// The encoder's error.
        source: png::EncodingError,
    },
    /// A file decoded but does not hold what its domain requires.
    #[error("{}: expected {expected}, found {found}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What the domain requires.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A point-info JSON file could not be parsed.
    #[error("{}: expected point-info JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A synthetic dataset's `synthetic.json` could not be parsed or written.
    #[error(
        "{}: expected the settings a synthetic dataset was rendered with (JSON: scenes, size, seed, points, \
         fixated_views, nonfixated_views, samples_per_axis): {source}",
        path.display()
    )]
    Manifest {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A task's labels do not fit its declaration (what its label function returned, or a file held).
    #[error("{}: the labels of `{task}`: {message}", path.display())]
    Label {
        /// The task.
        task: String,
        /// The file the labels were read from or written to.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
    /// A dataset folder has nothing the request can use.
    #[error("{}: {what}", root.display())]
    Dataset {
        /// The dataset root.
        root: PathBuf,
        /// What is missing.
        what: String,
    },
    /// A request that cannot be satisfied (bad parameters).
    #[error("invalid request: {0}")]
    Invalid(String),
}
