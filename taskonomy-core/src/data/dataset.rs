//! One dataset for every task: a folder in the Taskonomy layout (rendered synthetic scenes or the released
//! data), split into train / transfer / test by building, from which the samples of any declared task are
//! chosen and read one at a time.
//!
//! Nothing but the file list is held in memory. A sample is read when it is needed: the RGB image of each
//! of its views (the task's input, or the image a `from_rgb` task derives its input and label from) and
//! its label, obtained as the task declares ([`LabelSource`]). A sample whose files are missing or
//! corrupt is skipped when samples are chosen ([`Dataset::select`]): the problem is logged as it happens
//! (`tracing::warn!`, naming the file and what was expected) and counted, and the next sample takes its
//! place.
//!
//! ```no_run
//! use taskonomy_core::data::dataset::{Dataset, Sample, Split};
//! use taskonomy_core::data::Error;
//! use taskonomy_core::spec::TaskSet;
//!
//! /// The first training sample of `depth` (`tasks`: a dictionary's, `TaskSet::of::<Study>()`).
//! fn first_depth_sample(tasks: &TaskSet) -> Result<Sample, Error> {
//!     let dataset = Dataset::open("data/synthetic".as_ref())?;
//!     let depth = tasks.get("depth").expect("a dictionary with depth");
//!     let chosen = dataset.select(depth, Split::Train, 480, 1)?;
//!     dataset.load(depth, &chosen.samples[0], 1)
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::encoding;
use super::labels::{LabelSource, Labels, RgbImage};
use super::layout::{
    decode_png, parse_file_name, point_info_path, rgb_path, view_path, PointInfo, ViewKey, RGB,
};
use super::rng::{derive_seed, hash_str, Rng};
use super::synthetic::{SynthConfig, MANIFEST};
use super::Error;
use crate::spec::{Encoding, Sampling, TaskDef, TaskSpec};

/// The three disjoint image sets of the method: task networks are trained on `Train`, transfers on the
/// (much smaller) `Transfer` split, and every network is scored on `Test`. Buildings belong to one split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training data of the task-specific networks (step I).
    Train,
    /// Training data of the transfer functions and the `pixels` baseline (step II).
    Transfer,
    /// The test images every per-image loss is measured on.
    Test,
}

impl Split {
    /// All splits.
    pub const ALL: [Split; 3] = [Split::Train, Split::Transfer, Split::Test];

    /// The split's name.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Transfer => "transfer",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How buildings are assigned to splits. A dataset takes a rule through [`Dataset::set_rule`], which
/// checks it ([`SplitRule::validate`], and that every listed building exists).
#[derive(Clone, Debug, PartialEq)]
pub enum SplitRule {
    /// Buildings ordered by a seeded hash of their names; the first `test` fraction go to test, the next
    /// `transfer` fraction to the transfer split, the rest to training. Both fractions are in `[0, 1)` and
    /// sum to less than 1. With three or more buildings, each split gets at least one; with two, one
    /// trains and one tests; a single building trains.
    Fractions {
        /// Fraction of buildings for the transfer split.
        transfer: f64,
        /// Fraction of buildings for test.
        test: f64,
        /// Seed of the hash order.
        seed: u64,
    },
    /// Explicit lists of building names (as in the released splits); unlisted buildings are unused. The
    /// lists are disjoint, and every name is a building of the dataset.
    Lists {
        /// Training buildings.
        train: Vec<String>,
        /// Transfer buildings.
        transfer: Vec<String>,
        /// Test buildings.
        test: Vec<String>,
    },
}

impl Default for SplitRule {
    fn default() -> Self {
        SplitRule::Fractions {
            transfer: 0.15,
            test: 0.15,
            seed: 0,
        }
    }
}

impl SplitRule {
    /// Checks what can be checked without the dataset: fractions finite, in `[0, 1)` and leaving some
    /// buildings to train on; lists disjoint. Every problem is reported in one error.
    ///
    /// ```
    /// use taskonomy_core::data::dataset::SplitRule;
    /// let greedy = SplitRule::Fractions { transfer: 0.5, test: 0.5, seed: 0 };
    /// assert!(greedy.validate().is_err());
    /// assert!(SplitRule::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        match self.problems(None).as_slice() {
            [] => Ok(()),
            problems => Err(Error::Invalid(format!(
                "split rule: {}",
                problems.join("; ")
            ))),
        }
    }

    /// Every reason the rule is unusable; with `buildings` (the dataset's names), also the listed names
    /// that are not among them.
    fn problems(&self, buildings: Option<&[&str]>) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            SplitRule::Fractions { transfer, test, .. } => {
                for (name, f) in [("transfer", transfer), ("test", test)] {
                    if !(f.is_finite() && (0.0..1.0).contains(f)) {
                        problems.push(format!("the {name} fraction must be in [0, 1), found {f}"));
                    }
                }
                // Checked only when both are valid fractions, so one mistake gives one message.
                if problems.is_empty() && transfer + test >= 1.0 {
                    problems.push(format!(
                        "the transfer and test fractions must leave buildings to train on (sum < 1), \
                         found {transfer} + {test}"
                    ));
                }
            }
            SplitRule::Lists {
                train,
                transfer,
                test,
            } => {
                let lists = [("train", train), ("transfer", transfer), ("test", test)];
                for (i, (first, a)) in lists.iter().enumerate() {
                    for (second, b) in &lists[i + 1..] {
                        for name in a.iter().filter(|&name| b.contains(name)) {
                            problems.push(format!(
                                "building `{name}` is in both the {first} and the {second} list"
                            ));
                        }
                    }
                }
                if let Some(known) = buildings {
                    for (list, names) in lists {
                        for name in names.iter().filter(|n| !known.contains(&n.as_str())) {
                            problems.push(format!(
                                "the {list} list names `{name}`, which is not a building of the \
                                 dataset (a folder with rgb/ images)"
                            ));
                        }
                    }
                }
            }
        }
        problems
    }
}

/// How many of `n` buildings (in the seeded order) go to test and to transfer under fractions `test` and
/// `transfer`; the rest train. With three or more buildings every split keeps at least one, however the
/// fractions round; with two, one tests and one trains; a single building trains. Never more than `n`,
/// even for fractions [`SplitRule::validate`] rejects.
fn fraction_counts(n: usize, transfer: f64, test: f64) -> (usize, usize) {
    // `as usize` saturates (NaN and negatives to 0), so no fraction can make these overflow.
    let count = |f: f64| (f * n as f64).round() as usize;
    match n {
        0 | 1 => (0, 0),
        2 => (1, 0),
        _ => {
            let n_test = count(test).clamp(1, n - 2);
            let n_transfer = count(transfer).clamp(1, n - n_test - 1);
            (n_test, n_transfer)
        }
    }
}

/// One building's views (those with an RGB image), sorted.
#[derive(Clone, Debug, PartialEq)]
pub struct Building {
    /// Folder name.
    pub name: String,
    /// Views found in its `rgb/` folder.
    pub views: Vec<ViewKey>,
}

/// A dataset folder in the Taskonomy layout: its file list, read once.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The root folder.
    pub root: PathBuf,
    /// Image side (pixels): from `synthetic.json` if present, else from the first RGB image.
    pub size: usize,
    /// Buildings with at least one RGB image, sorted by name.
    pub buildings: Vec<Building>,
    /// How buildings are split: private so that every rule is checked ([`Dataset::set_rule`]).
    rule: SplitRule,
}

/// A sample before it is read: a building (index into [`Dataset::buildings`]) and its views, in order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SampleRef {
    /// The building.
    pub building: usize,
    /// Its views.
    pub views: Vec<ViewKey>,
}

/// A sample as read: its views, what the network sees, and the label.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The clean RGB image of each view.
    pub views: Vec<RgbImage>,
    /// The input a `from_rgb` task derives from its (single) view, which the network sees instead.
    pub derived: Option<RgbImage>,
    /// The label, in the form of the task's output.
    pub labels: Labels,
}

impl Sample {
    /// The network's input image for each view: the derived input of a `from_rgb` task, else the views.
    pub fn inputs(&self) -> &[RgbImage] {
        match &self.derived {
            Some(input) => std::slice::from_ref(input),
            None => &self.views,
        }
    }
}

/// A sample that could not be read, as reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The task.
    pub task: String,
    /// The split.
    pub split: Split,
    /// What was wrong, naming the file.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`, {} split: skipped a sample: {}",
            self.task, self.split, self.message
        )
    }
}

/// The samples chosen for a task in a split, and those skipped on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// The samples, in the order of the seeded shuffle.
    pub samples: Vec<SampleRef>,
    /// The samples skipped because a file was missing or corrupt.
    pub skipped: Vec<Problem>,
}

impl Dataset {
    /// Scans `root`: every sub-folder with an `rgb/` folder is a building. Buildings are split by
    /// [`SplitRule::default`].
    pub fn open(root: &Path) -> Result<Dataset, Error> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let mut buildings = Vec::new();
        let mut entries: Vec<PathBuf> = list_dir(root)?.iter().map(|e| e.path()).collect();
        entries.sort();
        for dir in entries {
            let rgb = dir.join(RGB);
            if !rgb.is_dir() {
                continue;
            }
            let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            let mut views: Vec<ViewKey> = list_dir(&rgb)?
                .iter()
                .filter_map(|e| {
                    let file = e.file_name().to_str()?.to_owned();
                    let (key, domain) = parse_file_name(&file)?;
                    (domain == RGB && file.ends_with(".png")).then_some(key)
                })
                .collect();
            views.sort();
            if !views.is_empty() {
                buildings.push(Building { name, views });
            }
        }
        let first = buildings.first().ok_or_else(|| Error::Dataset {
            root: root.to_path_buf(),
            what: "expected building folders holding rgb/point_P_view_V_domain_rgb.png images, found none".into(),
        })?;
        let size = match read_manifest(root)? {
            Some(config) => config.size,
            None => {
                let path = rgb_path(root, &first.name, first.views[0]);
                let bytes = std::fs::read(&path).map_err(io(&path))?;
                let img = decode_png(&bytes, &path)?;
                if img.width != img.height {
                    return Err(Error::Format {
                        path,
                        expected: "a square image".into(),
                        found: format!("{}×{}", img.width, img.height),
                    });
                }
                img.width
            }
        };
        Ok(Dataset {
            root: root.to_path_buf(),
            size,
            buildings,
            rule: SplitRule::default(),
        })
    }

    /// How buildings are split.
    pub fn rule(&self) -> &SplitRule {
        &self.rule
    }

    /// Splits the buildings by `rule`, after checking it ([`SplitRule::validate`]) and that every
    /// building it lists is one of the dataset's; on error the rule in use does not change.
    pub fn set_rule(&mut self, rule: SplitRule) -> Result<(), Error> {
        let names: Vec<&str> = self.buildings.iter().map(|b| b.name.as_str()).collect();
        match rule.problems(Some(&names)).as_slice() {
            [] => {
                self.rule = rule;
                Ok(())
            }
            problems => Err(Error::Dataset {
                root: self.root.clone(),
                what: format!("cannot use the split rule: {}", problems.join("; ")),
            }),
        }
    }

    /// The indices (into [`Dataset::buildings`]) of the buildings in `split`, in name order.
    pub fn split(&self, split: Split) -> Vec<usize> {
        match &self.rule {
            SplitRule::Lists {
                train,
                transfer,
                test,
            } => {
                let names = match split {
                    Split::Train => train,
                    Split::Transfer => transfer,
                    Split::Test => test,
                };
                (0..self.buildings.len())
                    .filter(|&i| names.contains(&self.buildings[i].name))
                    .collect()
            }
            SplitRule::Fractions {
                transfer,
                test,
                seed,
            } => {
                let n = self.buildings.len();
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by_key(|&i| {
                    (derive_seed(*seed, &[hash_str(&self.buildings[i].name)]), i)
                });
                let (n_test, n_transfer) = fraction_counts(n, *transfer, *test);
                let range = match split {
                    Split::Test => 0..n_test,
                    Split::Transfer => n_test..n_test + n_transfer,
                    Split::Train => n_test + n_transfer..n,
                };
                let mut picked: Vec<usize> = order[range].to_vec();
                picked.sort();
                picked
            }
        }
    }

    /// A string that changes whenever the folder's views, their split or the synthetic scenes' settings
    /// do: what artifacts trained on the dataset are keyed by.
    pub fn fingerprint(&self) -> Result<String, crate::store::StoreError> {
        let manifest = manifest_bytes(&self.root)
            .map_err(|(path, source)| crate::store::StoreError::Io { path, source })?
            .unwrap_or_default();
        let identity: Vec<(String, &[ViewKey])> = Split::ALL
            .iter()
            .flat_map(|&split| {
                self.split(split).into_iter().map(move |b| {
                    let building = &self.buildings[b];
                    (
                        format!("{split}/{}", building.name),
                        building.views.as_slice(),
                    )
                })
            })
            .collect();
        crate::store::key_of(&(
            "taskonomy-layout",
            self.size,
            String::from_utf8_lossy(&manifest),
            identity,
        ))
    }

    /// The name of building `index`; an error when there is no such building (sample lists are read from
    /// files, and may have been made for another folder).
    pub fn building_name(&self, index: usize) -> Result<&str, Error> {
        self.buildings
            .get(index)
            .map(|b| b.name.as_str())
            .ok_or_else(|| Error::Dataset {
                root: self.root.clone(),
                what: format!(
                    "expected a building index below {}, found {index} (a sample list made for \
                     another folder?)",
                    self.buildings.len()
                ),
            })
    }

    /// The building and first view of `sample`: the view whose files stand for the sample (its label file,
    /// the image a `from_rgb` task derives from). An error for a sample without views, which a sample
    /// list read from a file may hold.
    fn first_view(&self, sample: &SampleRef) -> Result<(&str, ViewKey), Error> {
        let building = self.building_name(sample.building)?;
        let first = sample.views.first().ok_or_else(|| Error::Dataset {
            root: self.root.clone(),
            what: format!("expected a sample of building `{building}` with views, found none"),
        })?;
        Ok((building, *first))
    }

    /// The RGB image of a view.
    pub fn read_rgb(&self, building: usize, key: ViewKey) -> Result<RgbImage, Error> {
        let path = rgb_path(&self.root, self.building_name(building)?, key);
        let bytes = read(&path)?;
        let img = decode_png(&bytes, &path)?;
        if img.width != self.size || img.height != self.size || img.channels < 3 {
            return Err(Error::Format {
                path,
                expected: format!("a {0}×{0} colour image", self.size),
                found: format!("{}×{}, {} channels", img.width, img.height, img.channels),
            });
        }
        let n = self.size * self.size;
        let max = img.max_value();
        let mut planes = vec![0.0f32; 3 * n];
        for i in 0..n {
            for c in 0..3 {
                planes[c * n + i] = f32::from(img.samples[i * img.channels + c]) / max;
            }
        }
        RgbImage::from_planes(self.size, planes).ok_or_else(|| Error::Format {
            path,
            expected: "three planes".into(),
            found: "another number of values".into(),
        })
    }

    /// The point-info record of a view.
    pub fn read_point_info(&self, building: usize, key: ViewKey) -> Result<PointInfo, Error> {
        let path = point_info_path(&self.root, self.building_name(building)?, key);
        let bytes = read(&path)?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })
    }

    /// The file a sample's stored labels are read from (its first view's), for a task whose labels are
    /// files.
    pub fn label_path(
        &self,
        task: &TaskSpec,
        encoding: Encoding,
        sample: &SampleRef,
    ) -> Result<PathBuf, Error> {
        let (building, key) = self.first_view(sample)?;
        Ok(match encoding {
            Encoding::PointInfo { .. } => point_info_path(&self.root, building, key),
            _ => view_path(&self.root, building, task.domain, encoding.extension(), key),
        })
    }

    /// Reads `sample` of `task`: the image of each view, the input a `from_rgb` task derives, and the
    /// label. `seed` is the run seed: a `from_rgb` task derives from it, with the view's name, the seed of
    /// that view's alteration, so a view is always altered the same way.
    pub fn load(&self, task: &TaskDef, sample: &SampleRef, seed: u64) -> Result<Sample, Error> {
        let views: Vec<RgbImage> = sample
            .views
            .iter()
            .map(|&key| self.read_rgb(sample.building, key))
            .collect::<Result<_, _>>()?;
        let (derived, labels) = self.labels_of(task, sample, seed, views.first())?;
        Ok(Sample {
            views,
            derived,
            labels,
        })
    }

    /// Reads the label of `sample` of `task` only (the image too for a `from_rgb` task, whose label is
    /// derived from it).
    pub fn load_labels(
        &self,
        task: &TaskDef,
        sample: &SampleRef,
        seed: u64,
    ) -> Result<Labels, Error> {
        Ok(self.labels_of(task, sample, seed, None)?.1)
    }

    /// The derived input (for `from_rgb` tasks) and the checked label of `sample`; `first` is its first
    /// view's image when it has been read already.
    fn labels_of(
        &self,
        task: &TaskDef,
        sample: &SampleRef,
        seed: u64,
        first: Option<&RgbImage>,
    ) -> Result<(Option<RgbImage>, Labels), Error> {
        let spec = &task.spec;
        let (building, first_view) = self.first_view(sample)?;
        let invalid = |path: PathBuf, message: String| Error::Label {
            task: spec.name.to_owned(),
            path,
            message,
        };
        let (derived, labels, path) = match task.labels {
            LabelSource::Rendered { encoding, .. } | LabelSource::Stored { encoding } => {
                let path = self.label_path(spec, encoding, sample)?;
                let bytes = read(&path)?;
                let labels = encoding::decode(encoding, spec.output, &bytes, &path, self.size)?;
                (None, labels, path)
            }
            LabelSource::FromRgb { derive } => {
                let path = rgb_path(&self.root, building, first_view);
                let read;
                let image = match first {
                    Some(image) => image,
                    None => {
                        read = self.read_rgb(sample.building, first_view)?;
                        &read
                    }
                };
                let view_seed = derive_seed(
                    seed,
                    &[
                        hash_str(building),
                        u64::from(first_view.point),
                        u64::from(first_view.view),
                    ],
                );
                let (input, labels) =
                    derive(image, view_seed).map_err(|e| invalid(path.clone(), e.to_string()))?;
                (Some(input), labels, path)
            }
            LabelSource::FromPointInfo { label } => {
                let infos: Vec<PointInfo> = sample
                    .views
                    .iter()
                    .map(|&key| self.read_point_info(sample.building, key))
                    .collect::<Result<_, _>>()?;
                let path = point_info_path(&self.root, building, first_view);
                let labels = label(&infos).map_err(|e| invalid(path.clone(), e.to_string()))?;
                (None, labels, path)
            }
        };
        labels
            .check(spec, self.size)
            .map_err(|e| invalid(path, e.to_string()))?;
        if let Some(input) = &derived {
            if input.size() != self.size {
                return Err(invalid(
                    rgb_path(&self.root, building, first_view),
                    format!(
                        "the derived input is {0}×{0}, the images {1}×{1}",
                        input.size(),
                        self.size
                    ),
                ));
            }
        }
        Ok((derived, labels))
    }

    /// The first `limit` samples of `task` in `split` that can be read, in the order of a shuffle drawn
    /// from `seed`, with the problems of those skipped. An error when none can be read.
    pub fn select(
        &self,
        task: &TaskDef,
        split: Split,
        limit: usize,
        seed: u64,
    ) -> Result<Selection, Error> {
        let mut skipped = Vec::new();
        let mut note = |message: String| {
            let problem = Problem {
                task: task.spec.name.to_owned(),
                split,
                message,
            };
            tracing::warn!("{problem}");
            skipped.push(problem);
        };
        let candidates = self.candidates(&task.spec, split, seed, &mut note);
        let mut samples = Vec::with_capacity(limit.min(candidates.len()));
        let mut next = 0;
        // Read in parallel the samples still missing; replace skipped ones from further down the order.
        while samples.len() < limit && next < candidates.len() {
            let end = (next + limit - samples.len()).min(candidates.len());
            let read: Vec<Result<(), Error>> = candidates[next..end]
                .par_iter()
                .map(|sample| self.load(task, sample, seed).map(|_| ()))
                .collect();
            for (sample, outcome) in candidates[next..end].iter().zip(read) {
                match outcome {
                    Ok(()) => samples.push(sample.clone()),
                    Err(e) => note(e.to_string()),
                }
            }
            next = end;
        }
        if samples.is_empty() {
            return Err(Error::Dataset {
                root: self.root.clone(),
                what: format!(
                    "no `{}` samples can be read in the {split} split ({} candidates, {} buildings){}",
                    task.spec.name,
                    candidates.len(),
                    self.split(split).len(),
                    match skipped.first() {
                        Some(problem) => format!("; the first problem: {}", problem.message),
                        None if task.spec.views > 1
                            && task.spec.sampling == Sampling::NonFixated =>
                            " (non-fixated views are marked \"fixated\": false in point_info)"
                                .to_owned(),
                        None => String::new(),
                    }
                ),
            });
        }
        Ok(Selection { samples, skipped })
    }

    /// Every sample of `task` the views of `split` make, in the order of a shuffle drawn from `seed`:
    /// single views; for multi-view tasks, pairs or triplets of views of one point (fixated or not, as
    /// the task's sampling says), or for matching, each fixated view with another of its point and with
    /// a fixated view of another point. Point-info records that cannot be read are reported to `note`.
    fn candidates(
        &self,
        task: &TaskSpec,
        split: Split,
        seed: u64,
        note: &mut impl FnMut(String),
    ) -> Vec<SampleRef> {
        let mut samples = Vec::new();
        for b in self.split(split) {
            let building = &self.buildings[b];
            if task.views == 1 {
                samples.extend(building.views.iter().map(|&v| SampleRef {
                    building: b,
                    views: vec![v],
                }));
                continue;
            }
            let infos: Vec<(ViewKey, Result<PointInfo, Error>)> = building
                .views
                .par_iter()
                .map(|&v| (v, self.read_point_info(b, v)))
                .collect();
            // Views of each point, fixated and not.
            let mut by_point: BTreeMap<u32, (Vec<ViewKey>, Vec<ViewKey>)> = BTreeMap::new();
            for (key, info) in infos {
                match info {
                    Ok(info) => {
                        let entry = by_point.entry(key.point).or_default();
                        if info.fixated {
                            entry.0.push(key);
                        } else {
                            entry.1.push(key);
                        }
                    }
                    Err(e) => note(e.to_string()),
                }
            }
            let points: Vec<u32> = by_point.keys().copied().collect();
            let mut push = |views: Vec<ViewKey>| samples.push(SampleRef { building: b, views });
            for (&point, (fixated, nonfixated)) in &by_point {
                match (task.views, task.sampling) {
                    (2, Sampling::Fixated | Sampling::NonFixated) => {
                        let views = if task.sampling == Sampling::Fixated {
                            fixated
                        } else {
                            nonfixated
                        };
                        for &a in views {
                            for &c in views {
                                if a != c {
                                    push(vec![a, c]);
                                }
                            }
                        }
                    }
                    (2, Sampling::Matching) => {
                        // The points a view of `point` can be mismatched with.
                        let others: Vec<u32> = points
                            .iter()
                            .copied()
                            .filter(|&p| p != point && !by_point[&p].0.is_empty())
                            .collect();
                        for (i, &a) in fixated.iter().enumerate() {
                            if fixated.len() > 1 {
                                push(vec![a, fixated[(i + 1) % fixated.len()]]);
                            }
                            if !others.is_empty() {
                                let mut rng = Rng::new(
                                    seed,
                                    &[
                                        hash_str(&building.name),
                                        u64::from(a.point),
                                        u64::from(a.view),
                                    ],
                                );
                                let p = others[rng.below(others.len())];
                                let candidates = &by_point[&p].0;
                                push(vec![a, candidates[rng.below(candidates.len())]]);
                            }
                        }
                    }
                    _ => {
                        for &a in fixated {
                            for &c in fixated {
                                for &d in fixated {
                                    if a != c && c != d && a != d {
                                        push(vec![a, c, d]);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Rng::new(seed, &[0x000e_90c4, 0]).shuffle(&mut samples);
        samples
    }
}

/// The entries of folder `dir`; an entry that cannot be read is an error naming the folder, not a
/// building or view silently missing.
fn list_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, Error> {
    std::fs::read_dir(dir)
        .and_then(|entries| entries.collect())
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })
}

/// The bytes of the dataset's `synthetic.json`, or `None` when there is none (a released dataset has
/// none); any other failure to read it is returned with the file's path.
fn manifest_bytes(root: &Path) -> Result<Option<Vec<u8>>, (PathBuf, std::io::Error)> {
    let path = root.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err((path, e)),
    }
}

/// The settings a synthetic dataset was rendered with, or `None` when the folder has no `synthetic.json`.
/// A file that is there but does not parse is an error: falling back to the images would hide that the
/// dataset's record of itself is damaged.
fn read_manifest(root: &Path) -> Result<Option<SynthConfig>, Error> {
    let Some(bytes) = manifest_bytes(root).map_err(|(path, source)| Error::Io { path, source })?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| Error::Manifest {
            path: root.join(MANIFEST),
            source,
        })
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(buildings: usize) -> Dataset {
        Dataset {
            root: PathBuf::from("nowhere"),
            size: 8,
            buildings: (0..buildings)
                .map(|i| Building {
                    name: format!("b{i}"),
                    views: vec![ViewKey { point: 0, view: 0 }],
                })
                .collect(),
            rule: SplitRule::default(),
        }
    }

    #[test]
    fn every_building_is_in_one_split() {
        for n in [2, 3, 10, 40] {
            let data = dataset(n);
            let mut all: Vec<usize> = Split::ALL.iter().flat_map(|&s| data.split(s)).collect();
            all.sort();
            assert_eq!(all, (0..n).collect::<Vec<_>>(), "{n} buildings");
            assert!(!data.split(Split::Test).is_empty());
            assert!(!data.split(Split::Train).is_empty());
        }
        assert_eq!(dataset(40).split(Split::Transfer).len(), 6);
    }

    #[test]
    fn listed_splits_take_the_named_buildings() {
        let mut data = dataset(4);
        data.set_rule(SplitRule::Lists {
            train: vec!["b0".into(), "b3".into()],
            transfer: vec!["b1".into()],
            test: vec![],
        })
        .unwrap();
        assert_eq!(data.split(Split::Train), [0, 3]);
        assert_eq!(data.split(Split::Transfer), [1]);
        assert!(data.split(Split::Test).is_empty());
    }

    #[test]
    fn fraction_counts_keep_a_building_in_every_split() {
        let fractions = [
            0.0,
            0.15,
            0.49,
            0.5,
            0.99,
            1.0,
            5.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
        ];
        for n in 0..40 {
            for transfer in fractions {
                for test in fractions {
                    let (n_test, n_transfer) = fraction_counts(n, transfer, test);
                    let case = format!("{n} buildings, transfer {transfer}, test {test}");
                    assert!(n_test + n_transfer <= n, "{case}");
                    let n_train = n - n_test - n_transfer;
                    match n {
                        0 => {}
                        1 => assert_eq!(n_train, 1, "{case}"),
                        2 => assert_eq!((n_test, n_transfer), (1, 0), "{case}"),
                        _ => assert!(n_test >= 1 && n_transfer >= 1 && n_train >= 1, "{case}"),
                    }
                }
            }
        }
        // Ordinary fractions round as they should.
        assert_eq!(fraction_counts(40, 0.15, 0.25), (10, 6));
    }

    #[test]
    fn extreme_fractions_split_without_panicking() {
        // Set directly, past `set_rule`, as a rule built in this module could be.
        for (transfer, test) in [(0.0, 1.0), (0.5, 0.49), (2.0, 2.0)] {
            let mut data = dataset(3);
            data.rule = SplitRule::Fractions {
                transfer,
                test,
                seed: 0,
            };
            for split in Split::ALL {
                assert_eq!(data.split(split).len(), 1, "{split}, {transfer} + {test}");
            }
        }
    }

    #[test]
    fn bad_fractions_are_rejected_with_every_reason() {
        let rule = |transfer: f64, test: f64| SplitRule::Fractions {
            transfer,
            test,
            seed: 0,
        };
        assert!(rule(0.0, 0.0).validate().is_ok());
        assert!(rule(0.3, 0.6).validate().is_ok());
        assert_eq!(
            rule(f64::NAN, 1.0).validate().unwrap_err().to_string(),
            "invalid request: split rule: the transfer fraction must be in [0, 1), found NaN; \
             the test fraction must be in [0, 1), found 1"
        );
        assert!(rule(-0.1, 0.2).validate().is_err());
        assert_eq!(
            rule(0.5, 0.5).validate().unwrap_err().to_string(),
            "invalid request: split rule: the transfer and test fractions must leave buildings to \
             train on (sum < 1), found 0.5 + 0.5"
        );
        let mut data = dataset(4);
        assert!(data.set_rule(rule(0.7, 0.7)).is_err());
        assert_eq!(
            data.rule(),
            &SplitRule::default(),
            "a rejected rule is not used"
        );
    }

    #[test]
    fn lists_must_be_disjoint_and_name_buildings_of_the_dataset() {
        let lists = SplitRule::Lists {
            train: vec!["b0".into(), "b1".into()],
            transfer: vec!["b1".into()],
            test: vec!["b9".into()],
        };
        assert_eq!(
            lists.validate().unwrap_err().to_string(),
            "invalid request: split rule: building `b1` is in both the train and the transfer list"
        );
        let error = dataset(4).set_rule(lists).unwrap_err().to_string();
        assert!(
            error.contains("building `b1` is in both the train and the transfer list")
                && error.contains("the test list names `b9`, which is not a building"),
            "{error}"
        );
        assert!(error.starts_with("nowhere: "), "{error}");
    }

    /// A task whose labels are stored files, for reading tests.
    fn stored_task() -> TaskDef {
        TaskDef {
            spec: crate::spec::tests::spec("t"),
            labels: LabelSource::Stored {
                encoding: Encoding::DEFAULT,
            },
        }
    }

    #[test]
    fn a_sample_without_views_or_building_is_an_error() {
        let data = dataset(2);
        let task = stored_task();
        let no_views = SampleRef {
            building: 1,
            views: vec![],
        };
        let error = data.load(&task, &no_views, 0).unwrap_err().to_string();
        assert_eq!(
            error,
            "nowhere: expected a sample of building `b1` with views, found none"
        );
        assert!(data.load_labels(&task, &no_views, 0).is_err());
        assert!(data
            .label_path(&task.spec, Encoding::DEFAULT, &no_views)
            .is_err());
        let elsewhere = SampleRef {
            building: 5,
            views: vec![ViewKey { point: 0, view: 0 }],
        };
        let error = data.load_labels(&task, &elsewhere, 0).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected a building index below 2, found 5"),
            "{error}"
        );
    }

    /// A fresh folder under the system's temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let path = std::env::temp_dir()
                .join(format!("taskonomy-dataset-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A folder with one building holding one 4×4 RGB image.
    fn one_image_folder(name: &str) -> TempDir {
        let dir = TempDir::new(name);
        let png =
            super::super::layout::encode_png(4, 4, super::super::layout::PngPixels::Rgb8(&[0; 48]))
                .unwrap();
        let key = ViewKey { point: 0, view: 0 };
        super::super::layout::write_atomic(&rgb_path(&dir.0, "b0", key), &png).unwrap();
        dir
    }

    #[test]
    fn the_manifest_gives_the_size_and_a_damaged_one_is_an_error() {
        let dir = one_image_folder("manifest");
        assert_eq!(
            Dataset::open(&dir.0).unwrap().size,
            4,
            "no manifest: the image's size"
        );

        let config = SynthConfig::new(1, 16, 0);
        let manifest = dir.0.join(MANIFEST);
        std::fs::write(&manifest, serde_json::to_vec(&config).unwrap()).unwrap();
        let data = Dataset::open(&dir.0).unwrap();
        assert_eq!(data.size, 16, "the manifest's size");
        let with_manifest = data.fingerprint().unwrap();

        std::fs::write(&manifest, b"{\"scenes\": 1, \"size\":").unwrap();
        let error = Dataset::open(&dir.0).unwrap_err();
        assert!(matches!(&error, Error::Manifest { path, .. } if *path == manifest));
        assert!(
            error.to_string().starts_with(&format!(
                "{}: expected the settings a synthetic dataset was rendered with",
                manifest.display()
            )),
            "{error}"
        );
        // The fingerprint follows the manifest's bytes.
        assert_ne!(data.fingerprint().unwrap(), with_manifest);
    }
}
