//! `taskonomy render`: the embedded synthetic dataset, written in the Taskonomy layout.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use taskonomy_core::data::labels::LabelSource;
use taskonomy_core::data::synthetic::{render_dataset, SynthConfig};
use taskonomy_core::spec::{Dictionary, TaskSet};

/// Render procedural indoor scenes in the Taskonomy folder layout: every view's RGB image and point-info
/// record, and the labels of every task of the dictionary that renders them (`#[task(label = f)]`).
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  taskonomy render --scenes 20 --size 64 --seed 1 --out data/synthetic"
)]
pub struct RenderArgs {
    /// Number of scenes (buildings) to render.
    #[arg(long, value_name = "N", default_value_t = 20)]
    scenes: usize,
    /// Image side in pixels (32, 64, 128, 256, ...).
    #[arg(long, value_name = "PX", default_value_t = 64)]
    size: usize,
    /// Seed: the same seed gives bit-identical images on any machine and thread count.
    #[arg(long, value_name = "X", default_value_t = 0)]
    seed: u64,
    /// Points per scene.
    #[arg(long, value_name = "N", default_value_t = 3)]
    points: usize,
    /// Fixated views per point.
    #[arg(long, value_name = "N", default_value_t = 3)]
    fixated_views: usize,
    /// Non-fixated views per point.
    #[arg(long, value_name = "N", default_value_t = 2)]
    nonfixated_views: usize,
    /// RGB samples per pixel along each axis (n × n, anti-aliasing); labels always use the pixel centre.
    #[arg(long, value_name = "N", default_value_t = 1)]
    samples: usize,
    /// Output folder (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run<D: Dictionary>(args: RenderArgs) -> anyhow::Result<()> {
    let tasks = TaskSet::of::<D>();
    let config = SynthConfig {
        scenes: args.scenes,
        size: args.size,
        seed: args.seed,
        points: args.points,
        fixated_views: args.fixated_views,
        nonfixated_views: args.nonfixated_views,
        samples_per_axis: args.samples,
    };
    let total = (config.scenes * config.views_per_scene()) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} rendering [{bar:40}] {pos}/{len} views, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let summary = render_dataset(&config, &tasks.tasks, &args.out, &|n| bar.inc(n as u64))
        .with_context(|| format!("rendering into {}", args.out.display()))?;
    bar.finish_and_clear();
    let rendered: Vec<&str> = tasks
        .tasks
        .iter()
        .filter(|t| matches!(t.labels, LabelSource::Rendered { .. }))
        .map(|t| t.spec.domain)
        .collect();
    println!(
        "rendered {} scenes into {}: {} images, {} other files (point info and the labels of {} \
         task(s): {}), {:.2} s, {:.1} images/s",
        config.scenes,
        args.out.display(),
        summary.images,
        summary.labels,
        rendered.len(),
        rendered.join(", "),
        summary.seconds,
        summary.images_per_second()
    );
    Ok(())
}
