//! Data: procedural indoor scenes with exact labels for every Taskonomy task, and the Taskonomy layout.
//!
//! The embedded default dataset: [`scene`] builds a room with furniture from a seed, [`camera`] places
//! cameras around "points" as Taskonomy did, [`render`] ray-casts every pixel, [`labels`] derives each
//! task's label from the geometry, and [`layout`] writes and reads the released dataset's folder format.
//! [`loader`] streams shuffled batches from such a folder, rendered here or downloaded.
//!
//! Frames: the world and room frames are z-up, metres; camera frames are x right, y up, z towards the viewer
//! (the camera looks along −z), as in the Taskonomy dataset's point-info files.

pub mod camera;
pub mod geometry;
pub mod labels;
pub mod layout;
pub mod loader;
pub mod math;
pub mod render;
pub mod rng;
pub mod scene;
pub mod sheet;
pub mod synthetic;

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
