//! Images per second of the synthetic renderer with every label of the standard dictionary, at 64×64 and
//! 128×128: ray casting (rays × primitives, with shadow rays) and the label functions of the rendered
//! tasks (Canny, Harris ×2, two graph segmentations, occlusion edges, ...). Views render in parallel, as
//! `taskonomy render` does; no disk I/O.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use taskonomy::data::camera::{plan_views, PlannedView, ViewConfig};
use taskonomy::data::labels::LabelSource;
use taskonomy::data::render::{render, Frame, RenderOptions};
use taskonomy::data::scene::Scene;
use taskonomy::data::synthetic::point_info;
use taskonomy::data::view::SceneView;
use taskonomy::spec::TaskSet;
use taskonomy::tasks::Taskonomy;

// The allocator of the `taskonomy` binary, so that the figure is the one `taskonomy render` gets: it
// keeps freed pages, where the system allocator maps and unmaps every label buffer of 128 KiB or more.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn views(size: usize) -> Vec<(Scene, PlannedView)> {
    (0..4u64)
        .flat_map(|i| {
            let scene = Scene::generate(7, i);
            let planned = plan_views(
                &scene,
                i,
                &ViewConfig {
                    size,
                    ..ViewConfig::default()
                },
            );
            planned.into_iter().map(move |v| (scene.clone(), v))
        })
        .collect()
}

/// Every rendered label of the standard dictionary for one view; returns the number of values.
fn all_labels(tasks: &TaskSet, scene: &Scene, planned: &PlannedView, frame: &Frame) -> usize {
    let info = point_info(scene, planned);
    let view = SceneView::new(scene, planned, frame, &info);
    tasks
        .tasks
        .iter()
        .filter_map(|task| match task.labels {
            LabelSource::Rendered { label, .. } => Some(label(&view).expect("a label")),
            _ => None,
        })
        .map(|labels| labels.per_sample(view.size()))
        .sum()
}

fn bench_render(c: &mut Criterion) {
    let tasks = TaskSet::of::<Taskonomy>();
    let mut group = c.benchmark_group("render_all_labels");
    group.sample_size(10);
    for size in [64usize, 128] {
        let views = views(size);
        group.throughput(Throughput::Elements(views.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &views, |b, views| {
            b.iter(|| {
                views
                    .par_iter()
                    .map(|(scene, v)| {
                        let frame = render(scene, &v.camera, &RenderOptions::default());
                        all_labels(&tasks, scene, v, &frame)
                    })
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

fn bench_stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_stages_64");
    group.sample_size(10);
    let views = views(64);
    let (scene, v) = &views[0];
    group.bench_function("ray_cast", |b| {
        b.iter(|| render(scene, &v.camera, &RenderOptions::default()))
    });
    let frame = render(scene, &v.camera, &RenderOptions::default());
    let tasks = TaskSet::of::<Taskonomy>();
    group.bench_function("labels", |b| {
        b.iter(|| all_labels(&tasks, scene, v, &frame))
    });
    group.finish();
}

criterion_group!(benches, bench_render, bench_stages);
criterion_main!(benches);
