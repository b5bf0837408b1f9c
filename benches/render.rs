//! Images per second of the synthetic renderer with every label, at 64×64 and 128×128: ray casting
//! (rays × primitives, with shadow rays) and label post-processing (Canny, Harris ×2, two graph
//! segmentations, occlusion edges). Views render in parallel, as `taskonomy render` does; no disk I/O.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use taskonomy_core::data::camera::{plan_views, PlannedView, ViewConfig};
use taskonomy_core::data::labels::ViewLabels;
use taskonomy_core::data::render::{render, RenderOptions};
use taskonomy_core::data::scene::Scene;

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

fn bench_render(c: &mut Criterion) {
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
                        let labels = ViewLabels::compute(scene, &frame);
                        labels.edge_texture.len()
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
    group.bench_function("labels", |b| b.iter(|| ViewLabels::compute(scene, &frame)));
    group.finish();
}

criterion_group!(benches, bench_render, bench_stages);
criterion_main!(benches);
