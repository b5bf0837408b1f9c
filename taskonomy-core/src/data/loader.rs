//! Streaming shuffled batches from a dataset in the Taskonomy layout (rendered by [`super::synthetic`] or
//! the released data), split into train / validation / test by building.
//!
//! Nothing is held in memory beyond the file list: each batch reads its files when it is drawn, decoding
//! them in parallel. A file that is missing or corrupt does not stop a run: the sample is skipped, the
//! problem is logged (`tracing::warn!`, naming the file and what was expected) and counted in
//! [`LoaderStats`], and the batch is filled from the following samples.
//!
//! ```no_run
//! use taskonomy_core::data::labels::Label;
//! use taskonomy_core::data::loader::{Dataset, Loader, LoaderConfig, Split};
//!
//! let dataset = Dataset::open("data/synthetic".as_ref())?;
//! let config = LoaderConfig::new(vec![Label::Depth, Label::SurfaceNormals], 16, 0);
//! let loader = Loader::new(&dataset, Split::Train, &config)?;
//! for batch in loader.epoch(0) {
//!     let rgb = &batch.rgb[0]; // [N, 3, H, W]
//!     let depth = &batch.targets[&Label::Depth]; // [N, 1, H, W], metres
//!     # let _ = (rgb, depth);
//! }
//! println!("{:?}", loader.stats());
//! # Ok::<(), taskonomy_core::data::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use super::labels::derived::{
    add_noise, apply_jigsaw, color_class, jigsaw_permutations, mask_square, srgb_to_lab,
    JIGSAW_PERMUTATIONS,
};
use super::labels::geometry::{
    egomotion, relative_pose, vanishing_points, OBJECT_CLASSES_SELECTED,
};
use super::labels::{Label, SampleKind};
use super::layout::{decode_domain, parse_file_name, view_path, Domain, PointInfo, ViewKey};
use super::rng::{derive_seed, hash_str, Rng};
use super::synthetic::{room_layout_of, SynthConfig, MANIFEST};
use super::Error;

/// A dense `f32` array, row-major, with its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first (a batch is `[N, ...]`).
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

impl Tensor {
    /// Stacks equally shaped items (each `item_shape`) into `[items.len(), item_shape...]`.
    pub fn stack(items: &[&[f32]], item_shape: &[usize]) -> Tensor {
        let mut shape = vec![items.len()];
        shape.extend_from_slice(item_shape);
        Tensor {
            shape,
            data: items.concat(),
        }
    }

    /// Item `i` of the outermost dimension.
    pub fn item(&self, i: usize) -> &[f32] {
        let n: usize = self.shape[1..].iter().product();
        &self.data[i * n..(i + 1) * n]
    }
}

/// Which part of the data: buildings are assigned to exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    /// Training buildings.
    Train,
    /// Validation buildings.
    Val,
    /// Test buildings.
    Test,
}

impl Split {
    /// All three.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// `train`, `val` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// How buildings are assigned to splits.
#[derive(Clone, Debug, PartialEq)]
pub enum SplitRule {
    /// Buildings ordered by a seeded hash of their names; the first `test` fraction go to test, the next
    /// `val` fraction to validation, the rest to training. With three or more buildings, each split gets at
    /// least one; with two, one trains and one tests.
    Fractions {
        /// Fraction of buildings for validation.
        val: f64,
        /// Fraction of buildings for test.
        test: f64,
        /// Seed of the hash order.
        seed: u64,
    },
    /// Explicit lists of building names (as in the released splits); unlisted buildings are unused.
    Lists {
        /// Training buildings.
        train: Vec<String>,
        /// Validation buildings.
        val: Vec<String>,
        /// Test buildings.
        test: Vec<String>,
    },
}

impl Default for SplitRule {
    fn default() -> Self {
        SplitRule::Fractions {
            val: 0.15,
            test: 0.15,
            seed: 0,
        }
    }
}

/// One building's views (those with an RGB file), sorted.
#[derive(Clone, Debug, PartialEq)]
pub struct Building {
    /// Folder name.
    pub name: String,
    /// Views found in its `rgb/` folder.
    pub views: Vec<ViewKey>,
}

/// A dataset folder in the Taskonomy layout: the file list, read once.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The root folder.
    pub root: PathBuf,
    /// Image side (pixels): from `synthetic.json` if present, else from the first RGB image.
    pub size: usize,
    /// Buildings with at least one RGB image, sorted by name.
    pub buildings: Vec<Building>,
}

impl Dataset {
    /// Scans `root`: every sub-folder with an `rgb/` folder is a building.
    pub fn open(root: &Path) -> Result<Dataset, Error> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let mut buildings = Vec::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root)
            .map_err(io(root))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for dir in entries {
            let rgb = dir.join(Domain::Rgb.folder_name());
            if !rgb.is_dir() {
                continue;
            }
            let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            let mut views: Vec<ViewKey> = std::fs::read_dir(&rgb)
                .map_err(io(&rgb))?
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let file = e.file_name().to_str()?.to_owned();
                    let (key, domain) = parse_file_name(&file)?;
                    (domain == "rgb" && file.ends_with(".png")).then_some(key)
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
        let size = match std::fs::read(root.join(MANIFEST))
            .ok()
            .and_then(|b| serde_json::from_slice::<SynthConfig>(&b).ok())
        {
            Some(config) => config.size,
            None => {
                let path = view_path(root, &first.name, Domain::Rgb, first.views[0]);
                let bytes = std::fs::read(&path).map_err(io(&path))?;
                let img = super::layout::decode_png(&bytes, &path)?;
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
        })
    }

    /// The indices (into [`Dataset::buildings`]) of the buildings in `split`, in name order.
    pub fn split(&self, split: Split, rule: &SplitRule) -> Vec<usize> {
        match rule {
            SplitRule::Lists { train, val, test } => {
                let names = match split {
                    Split::Train => train,
                    Split::Val => val,
                    Split::Test => test,
                };
                (0..self.buildings.len())
                    .filter(|&i| names.contains(&self.buildings[i].name))
                    .collect()
            }
            SplitRule::Fractions { val, test, seed } => {
                let n = self.buildings.len();
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by_key(|&i| {
                    (derive_seed(*seed, &[hash_str(&self.buildings[i].name)]), i)
                });
                let count = |f: f64| ((f * n as f64).round() as usize).max(usize::from(n >= 3));
                let n_test = if n == 2 { 1 } else { count(*test).min(n) };
                let n_val = if n < 3 {
                    0
                } else {
                    count(*val).min(n - n_test - 1)
                };
                let range = match split {
                    Split::Test => 0..n_test,
                    Split::Val => n_test..n_test + n_val,
                    Split::Train => n_test + n_val..n,
                };
                let mut picked: Vec<usize> = order[range].to_vec();
                picked.sort();
                picked
            }
        }
    }

    /// Reads and decodes one file (see [`decode_domain`] for units).
    pub fn read(&self, building: &str, domain: Domain, key: ViewKey) -> Result<Vec<f32>, Error> {
        let path = view_path(&self.root, building, domain, key);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        decode_domain(domain, &bytes, &path, self.size)
    }

    /// Reads one view's point-info JSON.
    pub fn point_info(&self, building: &str, key: ViewKey) -> Result<PointInfo, Error> {
        let path = view_path(&self.root, building, Domain::PointInfo, key);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })
    }
}

/// What to load.
#[derive(Clone, Debug, PartialEq)]
pub struct LoaderConfig {
    /// The labels every sample carries; they must share one [`SampleKind`].
    pub labels: Vec<Label>,
    /// Samples per batch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Seed of the shuffles, of the pairs for point matching, and of the corruptions (noise, mask, jigsaw).
    pub seed: u64,
    /// How buildings are split.
    pub split_rule: SplitRule,
}

impl LoaderConfig {
    /// `labels` in batches of `batch_size`, default split.
    pub fn new(labels: Vec<Label>, batch_size: usize, seed: u64) -> LoaderConfig {
        LoaderConfig {
            labels,
            batch_size,
            seed,
            split_rule: SplitRule::default(),
        }
    }
}

/// Counts of what was loaded and skipped, with the first problems verbatim.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoaderStats {
    /// Samples delivered in batches.
    pub loaded: usize,
    /// Samples skipped because a file was missing or corrupt.
    pub skipped: usize,
    /// The first [`LoaderStats::KEPT_PROBLEMS`] problems (file and what was expected).
    pub problems: Vec<String>,
}

impl LoaderStats {
    /// How many problem messages are kept.
    pub const KEPT_PROBLEMS: usize = 32;
}

/// A sample before loading: its building, its views, and for point matching whether they share a point.
#[derive(Clone, Debug, PartialEq)]
struct SampleRef {
    building: usize,
    views: Vec<ViewKey>,
    same_point: Option<bool>,
}

/// One loaded sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Building name.
    pub building: String,
    /// Its views, in order.
    pub views: Vec<ViewKey>,
    /// Clean RGB of each view, `[3, H, W]` in `[0, 1]`.
    pub rgb: Vec<Vec<f32>>,
    /// Corrupted inputs of the labels that have one (colorization, inpainting, denoising, jigsaw), `[3, H, W]`.
    pub inputs: BTreeMap<Label, Vec<f32>>,
    /// Each label's target, shaped as [`Label::target_shape`].
    pub targets: BTreeMap<Label, Vec<f32>>,
}

/// A batch: tensors stacked over samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// `(building, views)` of each sample.
    pub samples: Vec<(String, Vec<ViewKey>)>,
    /// Clean RGB per view slot: `rgb[k]` is `[N, 3, H, W]` for the `k`-th view of every sample.
    pub rgb: Vec<Tensor>,
    /// Corrupted network inputs for the labels that have one, `[N, 3, H, W]`.
    pub inputs: BTreeMap<Label, Tensor>,
    /// Targets, `[N, target_shape...]`.
    pub targets: BTreeMap<Label, Tensor>,
}

impl Batch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the batch is empty (never, for batches from [`Loader::epoch`]).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The network input for `label` (first view): its corrupted input, or the clean RGB.
    pub fn input(&self, label: Label) -> &Tensor {
        self.inputs.get(&label).unwrap_or(&self.rgb[0])
    }
}

/// Streams batches of one split.
#[derive(Debug)]
pub struct Loader<'a> {
    dataset: &'a Dataset,
    config: LoaderConfig,
    kind: SampleKind,
    samples: Vec<SampleRef>,
    stats: Mutex<LoaderStats>,
}

impl<'a> Loader<'a> {
    /// Lists the samples of `split`. Multi-view labels read every point-info file of the split first (to
    /// know which views are fixated); unreadable ones are skipped and counted like any bad file.
    pub fn new(
        dataset: &'a Dataset,
        split: Split,
        config: &LoaderConfig,
    ) -> Result<Loader<'a>, Error> {
        let kind = match config.labels.first() {
            None => return Err(Error::Invalid("a loader needs at least one label".into())),
            Some(l) => l.sample_kind(),
        };
        if let Some(other) = config.labels.iter().find(|l| l.sample_kind() != kind) {
            return Err(Error::Invalid(format!(
                "labels {} and {} need different samples ({kind:?} and {:?}); use one loader per kind",
                config.labels[0].name(),
                other.name(),
                other.sample_kind()
            )));
        }
        if config.batch_size == 0 {
            return Err(Error::Invalid("batch size must be at least 1".into()));
        }
        let mut stats = LoaderStats::default();
        let buildings = dataset.split(split, &config.split_rule);
        let mut samples = Vec::new();
        for &b in &buildings {
            let building = &dataset.buildings[b];
            if kind == SampleKind::Single {
                samples.extend(building.views.iter().map(|&v| SampleRef {
                    building: b,
                    views: vec![v],
                    same_point: None,
                }));
                continue;
            }
            let infos: Vec<(ViewKey, Result<PointInfo, Error>)> = building
                .views
                .par_iter()
                .map(|&v| (v, dataset.point_info(&building.name, v)))
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
                    Err(e) => note_problem(&mut stats, &e),
                }
            }
            let points: Vec<u32> = by_point.keys().copied().collect();
            for (&point, (fixated, nonfixated)) in &by_point {
                match kind {
                    SampleKind::FixatedPair | SampleKind::NonFixatedPair => {
                        let views = if kind == SampleKind::FixatedPair {
                            fixated
                        } else {
                            nonfixated
                        };
                        for &a in views {
                            for &c in views {
                                if a != c {
                                    samples.push(SampleRef {
                                        building: b,
                                        views: vec![a, c],
                                        same_point: None,
                                    });
                                }
                            }
                        }
                    }
                    SampleKind::Triplet => {
                        for &a in fixated {
                            for &c in fixated {
                                for &d in fixated {
                                    if a != c && c != d && a != d {
                                        samples.push(SampleRef {
                                            building: b,
                                            views: vec![a, c, d],
                                            same_point: None,
                                        });
                                    }
                                }
                            }
                        }
                    }
                    SampleKind::MatchingPair => {
                        for (i, &a) in fixated.iter().enumerate() {
                            if fixated.len() > 1 {
                                let c = fixated[(i + 1) % fixated.len()];
                                samples.push(SampleRef {
                                    building: b,
                                    views: vec![a, c],
                                    same_point: Some(true),
                                });
                            }
                            let others: Vec<u32> = points
                                .iter()
                                .copied()
                                .filter(|&p| p != point && !by_point[&p].0.is_empty())
                                .collect();
                            if !others.is_empty() {
                                let mut rng = Rng::new(
                                    config.seed,
                                    &[
                                        hash_str(&building.name),
                                        u64::from(a.point),
                                        u64::from(a.view),
                                    ],
                                );
                                let p = others[rng.below(others.len())];
                                let candidates = &by_point[&p].0;
                                let c = candidates[rng.below(candidates.len())];
                                samples.push(SampleRef {
                                    building: b,
                                    views: vec![a, c],
                                    same_point: Some(false),
                                });
                            }
                        }
                    }
                    SampleKind::Single => {}
                }
            }
        }
        if samples.is_empty() {
            return Err(Error::Dataset {
                root: dataset.root.clone(),
                what: format!(
                    "expected {kind:?} samples in the {} split ({} buildings), found none{}",
                    split.name(),
                    buildings.len(),
                    if kind == SampleKind::NonFixatedPair {
                        " (non-fixated views are marked \"fixated\": false in point_info)"
                    } else {
                        ""
                    }
                ),
            });
        }
        Ok(Loader {
            dataset,
            config: config.clone(),
            kind,
            samples,
            stats: Mutex::new(stats),
        })
    }

    /// Samples per epoch (before skipping bad files).
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples (never, for a loader that was created).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// What every sample holds.
    pub fn sample_kind(&self) -> SampleKind {
        self.kind
    }

    /// What has been loaded and skipped so far.
    pub fn stats(&self) -> LoaderStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The batches of epoch `epoch`, in an order shuffled by `(seed, epoch)`.
    pub fn epoch(&self, epoch: u64) -> Batches<'_, 'a> {
        let mut order: Vec<usize> = (0..self.samples.len()).collect();
        Rng::new(self.config.seed, &[0x000e_90c4, epoch]).shuffle(&mut order);
        Batches {
            loader: self,
            order,
            next: 0,
        }
    }

    /// Loads one sample, or says which file was wrong.
    pub fn load(&self, index: usize) -> Result<Sample, Error> {
        load_sample(self.dataset, &self.samples[index], &self.config)
    }
}

/// Loads the single-view `labels` of one view (for inspection and contact sheets), with the corruptions
/// drawn from `seed` as a loader with that seed would.
pub fn load_view(
    dataset: &Dataset,
    building: &str,
    key: ViewKey,
    labels: &[Label],
    seed: u64,
) -> Result<Sample, Error> {
    if let Some(l) = labels
        .iter()
        .find(|l| l.sample_kind() != SampleKind::Single)
    {
        return Err(Error::Invalid(format!(
            "{} needs several views; load it through a Loader",
            l.name()
        )));
    }
    let index = dataset
        .buildings
        .iter()
        .position(|b| b.name == building)
        .ok_or_else(|| Error::Dataset {
            root: dataset.root.clone(),
            what: format!("expected a building named {building}"),
        })?;
    let config = LoaderConfig::new(labels.to_vec(), 1, seed);
    load_sample(
        dataset,
        &SampleRef {
            building: index,
            views: vec![key],
            same_point: None,
        },
        &config,
    )
}

fn note_problem(stats: &mut LoaderStats, error: &Error) {
    tracing::warn!("skipping a sample: {error}");
    stats.skipped += 1;
    if stats.problems.len() < LoaderStats::KEPT_PROBLEMS {
        stats.problems.push(error.to_string());
    }
}

/// An epoch's batches; see [`Loader::epoch`].
#[derive(Debug)]
pub struct Batches<'l, 'a> {
    loader: &'l Loader<'a>,
    order: Vec<usize>,
    next: usize,
}

impl Iterator for Batches<'_, '_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let want = self.loader.config.batch_size;
        let mut good: Vec<Sample> = Vec::with_capacity(want);
        // Load what is missing in parallel; replace skipped samples from further down the order.
        while good.len() < want && self.next < self.order.len() {
            let end = (self.next + want - good.len()).min(self.order.len());
            let results: Vec<Result<Sample, Error>> = self.order[self.next..end]
                .par_iter()
                .map(|&i| self.loader.load(i))
                .collect();
            self.next = end;
            let mut stats = self.loader.stats.lock().unwrap_or_else(|e| e.into_inner());
            for r in results {
                match r {
                    Ok(s) => good.push(s),
                    Err(e) => note_problem(&mut stats, &e),
                }
            }
        }
        if good.is_empty() {
            return None;
        }
        if let Ok(mut stats) = self.loader.stats.lock() {
            stats.loaded += good.len();
        }
        Some(stack_batch(
            &good,
            &self.loader.config.labels,
            self.loader.dataset.size,
        ))
    }
}

fn stack_batch(samples: &[Sample], labels: &[Label], size: usize) -> Batch {
    let views = samples[0].rgb.len();
    let rgb = (0..views)
        .map(|k| {
            Tensor::stack(
                &samples
                    .iter()
                    .map(|s| s.rgb[k].as_slice())
                    .collect::<Vec<_>>(),
                &[3, size, size],
            )
        })
        .collect();
    let mut inputs = BTreeMap::new();
    let mut targets = BTreeMap::new();
    for &label in labels {
        if samples[0].inputs.contains_key(&label) {
            inputs.insert(
                label,
                Tensor::stack(
                    &samples
                        .iter()
                        .map(|s| s.inputs[&label].as_slice())
                        .collect::<Vec<_>>(),
                    &[3, size, size],
                ),
            );
        }
        targets.insert(
            label,
            Tensor::stack(
                &samples
                    .iter()
                    .map(|s| s.targets[&label].as_slice())
                    .collect::<Vec<_>>(),
                &label.target_shape(size),
            ),
        );
    }
    Batch {
        samples: samples
            .iter()
            .map(|s| (s.building.clone(), s.views.clone()))
            .collect(),
        rgb,
        inputs,
        targets,
    }
}

fn one_hot(n: usize, i: usize) -> Vec<f32> {
    let mut v = vec![0.0; n];
    v[i] = 1.0;
    v
}

fn load_sample(
    dataset: &Dataset,
    sample: &SampleRef,
    config: &LoaderConfig,
) -> Result<Sample, Error> {
    let building = &dataset.buildings[sample.building].name;
    let size = dataset.size;
    let first = sample.views[0];
    let rgb: Vec<Vec<f32>> = sample
        .views
        .iter()
        .map(|&v| dataset.read(building, Domain::Rgb, v))
        .collect::<Result<_, _>>()?;
    // The corruption seed of a view depends on its name, not on where it falls in an epoch.
    let view_seed = derive_seed(
        config.seed,
        &[
            hash_str(building),
            u64::from(first.point),
            u64::from(first.view),
        ],
    );
    let mut inputs = BTreeMap::new();
    let mut targets = BTreeMap::new();
    let mut files: BTreeMap<Domain, Vec<f32>> = BTreeMap::new();
    let mut infos: Option<Vec<PointInfo>> = None;
    let bad = |domain: Domain, expected: &str| Error::Format {
        path: view_path(&dataset.root, building, domain, first),
        expected: expected.into(),
        found: "no such field".into(),
    };
    for &label in &config.labels {
        let image = &rgb[0];
        let target = match label {
            Label::Autoencoding => image.clone(),
            Label::Denoising => {
                inputs.insert(label, add_noise(image, 0.1, view_seed));
                image.clone()
            }
            Label::Inpainting => {
                inputs.insert(label, mask_square(image, 3, size, view_seed).0);
                image.clone()
            }
            Label::Jigsaw => {
                let index = Rng::new(view_seed, &[0x0001_95a3]).below(JIGSAW_PERMUTATIONS);
                inputs.insert(
                    label,
                    apply_jigsaw(image, 3, size, &jigsaw_permutations()[index]),
                );
                one_hot(JIGSAW_PERMUTATIONS, index)
            }
            Label::Colorization => {
                let n = size * size;
                let bytes: Vec<[u8; 3]> = (0..n)
                    .map(|i| {
                        [0, 1, 2]
                            .map(|c| (image[c * n + i] * 255.0).round().clamp(0.0, 255.0) as u8)
                    })
                    .collect();
                let grey: Vec<f32> = bytes
                    .iter()
                    .map(|&p| (srgb_to_lab(p)[0] / 100.0) as f32)
                    .collect();
                inputs.insert(
                    label,
                    [grey.as_slice(), grey.as_slice(), grey.as_slice()].concat(),
                );
                bytes.iter().map(|&p| f32::from(color_class(p))).collect()
            }
            Label::ObjectClassSelected => {
                let all = read_cached(&mut files, dataset, building, Domain::ClassObject, first)?;
                let mut v = all[..OBJECT_CLASSES_SELECTED].to_vec();
                let total: f32 = v.iter().sum();
                if total > 0.0 {
                    v.iter_mut().for_each(|x| *x /= total);
                }
                v
            }
            Label::RoomLayout | Label::VanishingPoints => {
                let info = dataset.point_info(building, first)?;
                let values = if label == Label::RoomLayout {
                    room_layout_of(&info)
                        .ok_or_else(|| {
                            bad(
                                Domain::PointInfo,
                                "a \"room_box\" for the room-layout label",
                            )
                        })?
                        .to_vec()
                } else if let Some(vp) = info.vanishing_points_gaussian_sphere {
                    [vp.x, vp.y, vp.z].concat()
                } else {
                    let room = info.room_box.ok_or_else(|| {
                        bad(
                            Domain::PointInfo,
                            "\"vanishing_points_gaussian_sphere\" or a \"room_box\"",
                        )
                    })?;
                    vanishing_points(&info.camera_pose(), &room).to_vec()
                };
                values.iter().map(|&v| v as f32).collect()
            }
            Label::PointMatching => {
                let same = sample.same_point.unwrap_or(false);
                one_hot(2, usize::from(same))
            }
            Label::FixatedPose | Label::NonFixatedPose | Label::Egomotion => {
                if infos.is_none() {
                    infos = Some(
                        sample
                            .views
                            .iter()
                            .map(|&v| dataset.point_info(building, v))
                            .collect::<Result<_, _>>()?,
                    );
                }
                let poses: Vec<_> = infos.iter().flatten().map(PointInfo::camera_pose).collect();
                let values: Vec<f64> = if label == Label::Egomotion {
                    egomotion([&poses[0], &poses[1], &poses[2]]).to_vec()
                } else {
                    relative_pose(&poses[0], &poses[1]).to_vec()
                };
                values.iter().map(|&v| v as f32).collect()
            }
            _ => read_cached(&mut files, dataset, building, label.domain(), first)?,
        };
        targets.insert(label, target);
    }
    Ok(Sample {
        building: building.clone(),
        views: sample.views.clone(),
        rgb,
        inputs,
        targets,
    })
}

fn read_cached(
    files: &mut BTreeMap<Domain, Vec<f32>>,
    dataset: &Dataset,
    building: &str,
    domain: Domain,
    key: ViewKey,
) -> Result<Vec<f32>, Error> {
    if let Some(v) = files.get(&domain) {
        return Ok(v.clone());
    }
    let v = dataset.read(building, domain, key)?;
    files.insert(domain, v.clone());
    Ok(v)
}
