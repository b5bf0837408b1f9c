//! The run folder: every artifact of steps I–III is a folder named by a hash of what produced it, written
//! atomically, and marked finished by a `done` file written last.
//!
//! ```text
//! run/
//!   manifest.json                        preset, seed, device, data, dictionary
//!   tasks/<task>/<key>/                  weights.safetensors, test_losses.json, curve.svg,
//!                                        constant_test_losses.json, label_scale.json, done
//!   reps/<source>/<key>/                 transfer.f32, test.f32, meta.json, done
//!   transfers/<target>/<s1+s2>/<key>/    weights.safetensors, test_losses.json, curve.svg, done
//!   affinities.csv  wins_vs_task.csv  wins_vs_pixels.csv
//!   estimates/<estimator>/               affinities.csv, scores.csv, summary.json, comparison.json
//!                                        (and wins_vs_*.csv for ridge): crate::train::estimate
//!   work/                                the units of work and who trains them (crate::work)
//! ```
//!
//! A key is the SHA-256 of the canonical JSON of everything that produced the artifact (task spec, data,
//! seed, sizes, hyper-parameters, the keys of the networks it reads, and the stage's code version), so a
//! changed setting never reuses a stale file, and an unchanged one is never recomputed. A folder without
//! `done` is a write that was interrupted: it is cleared and redone. Files are written to a temporary name
//! in the same folder, flushed to disk, then renamed, so a file either is complete or does not exist.
//!
//! ```
//! use taskonomy_core::store::{key_of, RunFolder};
//! let root = std::env::temp_dir().join(format!("store-doc-{}", std::process::id()));
//! let run = RunFolder::create(&root)?;
//! let key = key_of(&("depth", 42))?;
//! let artifact = run.task("depth", &key);
//! assert!(!artifact.is_done());
//! artifact.begin()?;
//! artifact.write("test_losses.json", b"[0.5]")?;
//! artifact.finish(&("depth", 42))?;
//! assert!(artifact.is_done());
//! # std::fs::remove_dir_all(&root).unwrap();
//! # Ok::<(), taskonomy_core::store::StoreError>(())
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The name of the marker that says an artifact folder is complete.
pub const DONE: &str = "done";

/// Why the run folder could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A JSON file does not hold what was expected.
    #[error("{}: expected {expected}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the file should hold.
        expected: &'static str,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A value could not be turned into a key.
    #[error("cannot hash the description of an artifact: {0}")]
    Key(serde_json::Error),
    /// An artifact another stage should have produced is not there.
    #[error("{what} is missing ({}); {hint}", path.display())]
    Missing {
        /// What is missing.
        what: String,
        /// Where it was expected.
        path: PathBuf,
        /// What to run to produce it.
        hint: String,
    },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `bytes` to `path` so that the file is either complete or absent: a temporary file in the same
/// folder, flushed to disk, renamed over `path`, then the folder flushed so the rename itself survives a
/// crash.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    replace_file(path, bytes, Flush::ToDisk).map_err(|source| StoreError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Whether [`replace_file`] waits for the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Flush the file and its folder before returning: the write survives a crash of the machine, not just
    /// of the process. What a run's artifacts need (hours of training behind them).
    ToDisk,
    /// Leave flushing to the system: the rename still makes the file complete or absent for every reader.
    /// For files that can be generated again, thousands at a time (a dataset's images).
    Lazily,
}

/// Writes `bytes` to a temporary file beside `path` (named by the process, so two writers never share
/// one) and renames it over `path`; on failure the temporary file is removed.
pub(crate) fn replace_file(path: &Path, bytes: &[u8], flush: Flush) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        if flush == Flush::ToDisk {
            file.sync_all()?;
        }
        drop(file);
        fs::rename(&temp, path)?;
        // Directories cannot be opened for syncing on every platform; the rename is already done.
        if flush == Flush::ToDisk {
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), StoreError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(StoreError::Key)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads a JSON file into `T`; `expected` describes `T` in the error.
pub fn read_json<T: DeserializeOwned>(
    path: &Path,
    expected: &'static str,
) -> Result<T, StoreError> {
    let bytes = fs::read(path).map_err(io_error(path))?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
        path: path.to_owned(),
        expected,
        source,
    })
}

/// The key of an artifact: the first 16 hex digits (64 bits) of the SHA-256 of `description` as
/// canonical JSON (struct fields in declaration order, maps sorted, as `serde_json` writes them).
pub fn key_of(description: &impl Serialize) -> Result<String, StoreError> {
    let json = serde_json::to_vec(description).map_err(StoreError::Key)?;
    let digest = Sha256::digest(&json);
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// A run folder.
#[derive(Clone, Debug)]
pub struct RunFolder {
    root: PathBuf,
}

impl RunFolder {
    /// Opens the run folder at `root`, creating it if needed.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io_error(&root))?;
        Ok(RunFolder { root })
    }

    /// Opens an existing run folder.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        if !root.is_dir() {
            return Err(StoreError::Missing {
                what: "the run folder".into(),
                path: root,
                hint: "run `taskonomy train --run <folder>` first".into(),
            });
        }
        Ok(RunFolder { root })
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    /// The artifact of task network `task` with `key` (step I).
    pub fn task(&self, task: &str, key: &str) -> Artifact {
        Artifact::at(self.root.join("tasks").join(task).join(key))
    }

    /// The cached representations of `source` (a task, or `random`) with `key` (step II).
    pub fn reps(&self, source: &str, key: &str) -> Artifact {
        Artifact::at(self.root.join("reps").join(source).join(key))
    }

    /// The transfer `sources → target` (sources joined with `+`, or a baseline name) with `key`.
    pub fn transfer(&self, target: &str, sources: &str, key: &str) -> Artifact {
        Artifact::at(
            self.root
                .join("transfers")
                .join(target)
                .join(sources)
                .join(key),
        )
    }

    /// The mapping from `source`'s representation to `intermediate`'s with `key`, which measures
    /// transitive transfer.
    pub fn mapping(&self, source: &str, intermediate: &str, key: &str) -> Artifact {
        Artifact::at(
            self.root
                .join("mappings")
                .join(format!("{source}-to-{intermediate}"))
                .join(key),
        )
    }

    /// A file at the top of the run folder (`affinities.csv`).
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// One artifact folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    dir: PathBuf,
}

impl Artifact {
    /// The artifact at `dir`.
    pub fn at(dir: PathBuf) -> Self {
        Artifact { dir }
    }

    /// A file of the artifact.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether the artifact is complete (its `done` marker exists).
    pub fn is_done(&self) -> bool {
        self.path(DONE).is_file()
    }

    /// Starts (or restarts) writing the artifact: a folder left by an interrupted write is cleared.
    pub fn begin(&self) -> Result<(), StoreError> {
        crate::work::claim::check_fence(&self.dir)?;
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir).map_err(io_error(&self.dir))?;
        }
        fs::create_dir_all(&self.dir).map_err(io_error(&self.dir))
    }

    /// Writes one file of the artifact, atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        crate::work::claim::check_fence(&self.path(name))?;
        write_atomic(&self.path(name), bytes)
    }

    /// Writes one JSON file of the artifact, atomically.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<(), StoreError> {
        crate::work::claim::check_fence(&self.path(name))?;
        write_json(&self.path(name), value)
    }

    /// Reads one JSON file of the artifact.
    pub fn read_json<T: DeserializeOwned>(
        &self,
        name: &str,
        expected: &'static str,
    ) -> Result<T, StoreError> {
        read_json(&self.path(name), expected)
    }

    /// Marks the artifact complete; `description` (what produced it) is kept in the marker.
    pub fn finish(&self, description: &impl Serialize) -> Result<(), StoreError> {
        crate::work::claim::check_fence(&self.path(DONE))?;
        write_json(&self.path(DONE), description)
    }

    /// Nothing when the artifact is complete; otherwise an error saying that `what` is missing, with
    /// `hint` on what produces it.
    pub fn require_done(
        &self,
        what: impl Into<String>,
        hint: impl Into<String>,
    ) -> Result<(), StoreError> {
        if self.is_done() {
            return Ok(());
        }
        Err(StoreError::Missing {
            what: what.into(),
            path: self.dir.clone(),
            hint: hint.into(),
        })
    }
}

/// Little-endian `f32` bytes of `values` (the format of cached representations).
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Reads a file of little-endian `f32`s holding exactly `expected` values.
pub fn read_f32(path: &Path, expected: usize) -> Result<Vec<f32>, StoreError> {
    let bytes = fs::read(path).map_err(io_error(path))?;
    if bytes.len() != 4 * expected {
        return Err(StoreError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "expected {expected} f32 values ({} bytes), found {} bytes",
                    4 * expected,
                    bytes.len()
                ),
            ),
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("taskonomy-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        root
    }

    #[test]
    fn keys_depend_on_every_field_and_are_stable() {
        let a = key_of(&("depth", 1, [0.5f32])).unwrap();
        assert_eq!(a, key_of(&("depth", 1, [0.5f32])).unwrap());
        assert_ne!(a, key_of(&("depth", 2, [0.5f32])).unwrap());
        assert_ne!(a, key_of(&("normals", 1, [0.5f32])).unwrap());
        assert_eq!(a.len(), 16);
        // Pinned: a key must mean the same artifact in every build.
        // sha256(b"\"x\"") begins ba2df490 3a2c14e8 (checked with Python's hashlib).
        assert_eq!(key_of(&"x").unwrap(), "ba2df4903a2c14e8");
    }

    #[test]
    fn an_interrupted_artifact_is_cleared_and_redone() {
        let root = temp_root("interrupted");
        let run = RunFolder::create(&root).unwrap();
        let artifact = run.task("depth", "abc");
        artifact.begin().unwrap();
        artifact.write("half.bin", b"partial").unwrap();
        assert!(!artifact.is_done());
        artifact.begin().unwrap();
        assert!(!artifact.path("half.bin").exists());
        artifact.write_json("losses.json", &[1.0, 2.0]).unwrap();
        artifact.finish(&"depth").unwrap();
        assert!(artifact.is_done());
        let losses: Vec<f64> = artifact.read_json("losses.json", "losses").unwrap();
        assert_eq!(losses, [1.0, 2.0]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn atomic_writes_leave_no_temporary_files() {
        let root = temp_root("atomic");
        fs::create_dir_all(&root).unwrap();
        let path = root.join("a.bin");
        write_atomic(&path, &f32_bytes(&[1.5, -2.0])).unwrap();
        write_atomic(&path, &f32_bytes(&[3.0])).unwrap();
        assert_eq!(read_f32(&path, 1).unwrap(), [3.0]);
        let names: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let err = read_f32(&path, 2).unwrap_err().to_string();
        assert!(err.contains("expected 2 f32 values"), "{err}");
        fs::remove_dir_all(&root).unwrap();
    }
}
