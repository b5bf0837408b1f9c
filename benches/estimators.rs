//! Transferability estimators, per (source, target) pair at the small preset's sizes: 384 transfer images
//! of 64 tokens of 8 channels. A dense target is estimated on the 24,576 tokens (3 channels × 16 pixels
//! each, or 17 pixel classes); an image-level one on the 384 images (9 outputs, or 100 classes).
//!
//! `from_samples`: what one pair costs alone (decompose the source's features, project the labels, the
//! estimator). `from_moments`: what a pair costs in a run, where a target's 27 first-order sources share
//! one product of their features with its labels (`moments/27_sources_by_48_labels`, once per target) and
//! each pair decomposes its 8 × 8 Gram matrix and reads its rows of that product.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskonomy::affinity::DMatrix;
use taskonomy::affinity::DVector;
use taskonomy::estimate::hscore::{hscore, hscore_from_moments, Membership};
use taskonomy::estimate::linear::{features_by_labels, LinearFeatures, Projection};

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
    group.bench_function("logme/dense_3_channels_tokens/from_samples", |b| {
        b.iter(|| {
            let f = LinearFeatures::new(black_box(&tokens), IMAGES * TOKENS, WIDTH).unwrap();
            let p = f.project_columns(&dense).unwrap();
            black_box(logme(&f, &p, 3, PIXELS))
        })
    });
    group.bench_function("logme/pixel_classes_17_tokens/from_samples", |b| {
        b.iter(|| {
            let f = LinearFeatures::new(black_box(&tokens), IMAGES * TOKENS, WIDTH).unwrap();
            let p = f.project_classes(&pixel_classes, PIXELS, 17).unwrap();
            black_box(logme(&f, &p, 17, PIXELS))
        })
    });
    group.bench_function("logme/vector_9_images/from_samples", |b| {
        b.iter(|| {
            let f = LinearFeatures::new(black_box(&images), IMAGES, WIDTH).unwrap();
            let p = f.project_columns(&vector).unwrap();
            black_box(logme(&f, &p, 9, 1))
        })
    });
    group.bench_function("ridge/dense_3_channels_tokens_fit/from_samples", |b| {
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
    group.bench_function("hscore/pixel_classes_17_tokens/from_samples", |b| {
        b.iter(|| {
            black_box(hscore(
                black_box(&tokens),
                IMAGES * TOKENS,
                WIDTH,
                &pixel_members,
            ))
        })
    });
    group.bench_function("hscore/classes_100_images/from_samples", |b| {
        b.iter(|| black_box(hscore(black_box(&images), IMAGES, WIDTH, &image_members)))
    });

    // A run's path: 27 sources side by side (column-major), one product with the labels per target.
    const SOURCES: usize = 27;
    let rows = IMAGES * TOKENS;
    let all: Vec<f64> = {
        let mut u = uniform(7);
        (0..rows * WIDTH * SOURCES).map(|_| u() - 0.5).collect()
    };
    group.bench_function("moments/27_sources_by_48_labels", |b| {
        b.iter(|| black_box(features_by_labels(black_box(&all), rows, &dense).unwrap()))
    });
    // One source's moments, as a run assembles them from the shared product.
    let source = LinearFeatures::new(&tokens, rows, WIDTH).unwrap();
    let gram = source.centred_gram();
    let f = DMatrix::from_row_slice(rows, WIDTH, &tokens);
    let means: Vec<f64> = f.column_iter().map(|c| c.mean()).collect();
    let label_means: Vec<f64> = dense.column_iter().map(|c| c.mean()).collect();
    let norms: Vec<f64> = dense
        .column_iter()
        .zip(&label_means)
        .map(|(c, m)| c.norm_squared() - rows as f64 * m * m)
        .collect();
    let cross = DMatrix::from_fn(WIDTH, dense.ncols(), |d, k| {
        f.column(d).dot(&dense.column(k)) - rows as f64 * means[d] * label_means[k]
    });
    group.bench_function("logme/dense_3_channels_tokens/from_moments", |b| {
        b.iter(|| {
            let f = LinearFeatures::from_moments(
                rows,
                DVector::from_column_slice(&means),
                black_box(gram.clone()),
            )
            .unwrap();
            let p = f.project_cross(&cross, &label_means, &norms).unwrap();
            black_box(logme(&f, &p, 3, PIXELS))
        })
    });
    let classes: Vec<(f64, DVector<f64>)> = (0..17)
        .map(|c| {
            (
                rows as f64 / 17.0,
                cross.column(c % cross.ncols()).into_owned(),
            )
        })
        .collect();
    let covariance = &gram / rows as f64;
    group.bench_function("hscore/pixel_classes_17_tokens/from_moments", |b| {
        b.iter(|| black_box(hscore_from_moments(black_box(&covariance), &classes)))
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
