//! Transferability estimators, per (source, target) pair at the small preset's sizes: 384 transfer images
//! of 64 tokens of 8 channels. A dense target is estimated on the 24,576 tokens (3 channels × 16 pixels
//! each, or 17 pixel classes); an image-level one on the 384 images (9 outputs, or 100 classes). Each
//! iteration is what one pair costs: decompose the source's features, project the target's labels,
//! then the estimator.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskonomy::affinity::DMatrix;
use taskonomy::estimate::hscore::{hscore, Membership};
use taskonomy::estimate::linear::{LinearFeatures, Projection};

const IMAGES: usize = 384;
const TOKENS: usize = 64;
const WIDTH: usize = 8;
const PIXELS: usize = 16;

/// A fixed xorshift stream in [0, 1), so every run measures the same input.
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn features(rows: usize, seed: u64) -> Vec<f64> {
    let mut u = uniform(seed);
    (0..rows * WIDTH).map(|_| u() - 0.5).collect()
}

/// Labels that depend on the features' first channel, plus noise.
fn values(rows: &[f64], columns: usize, seed: u64) -> DMatrix<f64> {
    let mut u = uniform(seed);
    DMatrix::from_fn(rows.len() / WIDTH, columns, |i, k| {
        rows[i * WIDTH + k % WIDTH] + 0.3 * u()
    })
}

fn classes(count: usize, per_row: usize, rows: usize, seed: u64) -> Vec<usize> {
    let mut u = uniform(seed);
    (0..rows * per_row)
        .map(|_| (u() * count as f64) as usize)
        .collect()
}

/// LogME of every group of `per_row` columns, averaged: what one pair costs.
fn logme(f: &LinearFeatures, projections: &[Projection], channels: usize, per_row: usize) -> f64 {
    (0..channels)
        .map(|c| {
            let group: Vec<Projection> = (0..per_row)
                .map(|j| projections[j * channels + c].clone())
                .filter(|p| !p.is_constant())
                .collect();
            f.evidence(&group).expect("evidence").per_value
        })
        .sum::<f64>()
        / channels as f64
}

fn estimators(c: &mut Criterion) {
    let tokens = features(IMAGES * TOKENS, 1);
    let images = features(IMAGES, 2);
    let dense = values(&tokens, 3 * PIXELS, 3);
    let vector = values(&images, 9, 4);
    let pixel_classes = classes(17, PIXELS, IMAGES * TOKENS, 5);
    let image_classes = classes(100, 1, IMAGES, 6);

    let mut group = c.benchmark_group("estimator_per_pair");
    group.bench_function("logme/dense_3_channels_tokens", |b| {
        b.iter(|| {
            let f = LinearFeatures::new(black_box(&tokens), IMAGES * TOKENS, WIDTH).unwrap();
            let p = f.project_columns(&dense).unwrap();
            black_box(logme(&f, &p, 3, PIXELS))
        })
    });
    group.bench_function("logme/pixel_classes_17_tokens", |b| {
        b.iter(|| {
            let f = LinearFeatures::new(black_box(&tokens), IMAGES * TOKENS, WIDTH).unwrap();
            let p = f.project_classes(&pixel_classes, PIXELS, 17).unwrap();
            black_box(logme(&f, &p, 17, PIXELS))
        })
    });
    group.bench_function("logme/vector_9_images", |b| {
        b.iter(|| {
            let f = LinearFeatures::new(black_box(&images), IMAGES, WIDTH).unwrap();
            let p = f.project_columns(&vector).unwrap();
            black_box(logme(&f, &p, 9, 1))
        })
    });
    group.bench_function("ridge/dense_3_channels_tokens_fit", |b| {
        b.iter(|| {
            let f = LinearFeatures::new(black_box(&tokens), IMAGES * TOKENS, WIDTH).unwrap();
            let p = f.project_columns(&dense).unwrap();
            let readouts: Vec<_> = (0..3)
                .map(|c| {
                    let group: Vec<Projection> =
                        (0..PIXELS).map(|j| p[j * 3 + c].clone()).collect();
                    let lambda = f.evidence(&group).unwrap().ridge_lambda();
                    f.ridge(&group, lambda)
                })
                .collect();
            black_box(readouts)
        })
    });
    let memberships = |classes: &[usize], per_row: usize| -> Vec<Membership> {
        classes
            .iter()
            .enumerate()
            .map(|(i, &class)| Membership {
                sample: i / per_row,
                class,
                weight: 1.0,
            })
            .collect()
    };
    let pixel_members = memberships(&pixel_classes, PIXELS);
    let image_members = memberships(&image_classes, 1);
    group.bench_function("hscore/pixel_classes_17_tokens", |b| {
        b.iter(|| {
            black_box(hscore(
                black_box(&tokens),
                IMAGES * TOKENS,
                WIDTH,
                &pixel_members,
            ))
        })
    });
    group.bench_function("hscore/classes_100_images", |b| {
        b.iter(|| black_box(hscore(black_box(&images), IMAGES, WIDTH, &image_members)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = estimators
}
criterion_main!(benches);
