//! The AHP normalisation (Section 3.3): affinities for 22 targets × 37 sources from per-image losses
//! (512 images each, synthetic), and the Bradley–Terry reading of the paper's released win rates.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskonomy::affinity::{affinities_from_reference_wins, from_losses, DMatrix, PowerIteration};
use taskonomy::transfers::Transfers;

const TARGETS: usize = 22;
const SOURCES: usize = 37;
const IMAGES: usize = 512;

/// Per-image losses: each source has its own quality plus per-image noise (a fixed xorshift stream, so
/// every run measures the same input).
fn losses(target: usize) -> DMatrix<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (target as u64 + 1);
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let quality: Vec<f64> = (0..SOURCES).map(|_| uniform()).collect();
    DMatrix::from_fn(SOURCES, IMAGES, |source, _| {
        quality[source] + 0.5 * uniform()
    })
}

fn ahp(c: &mut Criterion) {
    let per_target: Vec<DMatrix<f64>> = (0..TARGETS).map(losses).collect();
    let settings = PowerIteration::default();
    c.bench_function("ahp/22_targets_x_37_sources_x_512_images", |b| {
        b.iter(|| {
            for losses in &per_target {
                black_box(from_losses(black_box(losses), &settings).expect("converges"));
            }
        })
    });

    let wins = Transfers::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/taskonomy2018/wins_vs_pixels.csv"
    ))
    .expect("the vendored win rates read");
    c.bench_function("ahp/bradley_terry_paper_wins_vs_pixels", |b| {
        b.iter(|| {
            affinities_from_reference_wins(black_box(&wins), "pixels", &settings)
                .expect("converges")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = ahp
}
criterion_main!(benches);
