//! Labels derived from the RGB image when a batch is loaded, as in the paper, where these tasks have no
//! files of their own: colorization (grey input, colour classes), denoising (noisy input), inpainting
//! (masked input) and jigsaw (permuted tiles). Each corruption is drawn from a seed and the view's name, so
//! a given image is always corrupted the same way (test losses stay comparable across runs).

use std::sync::OnceLock;

use crate::data::render::decode_srgb;
use crate::data::rng::Rng;

/// CIE L*a*b* (D65 white) of an 8-bit sRGB colour: `L` in `[0, 100]`, `a`, `b` roughly in `[−128, 128)`.
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f64; 3] {
    let [r, g, b] = rgb.map(decode_srgb);
    if rgb[0] == rgb[1] && rgb[1] == rgb[2] {
        // Neutral greys have a* = b* = 0 exactly; rounding in the matrix would scatter them over the four
        // bins that meet at the origin.
        let l = if r > 216.0 / 24389.0 {
            116.0 * libm::cbrt(r) - 16.0
        } else {
            24389.0 / 27.0 * r
        };
        return [l, 0.0, 0.0];
    }
    // Linear sRGB to XYZ, normalised by the D65 white point.
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f64| {
        if t > 216.0 / 24389.0 {
            libm::cbrt(t)
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The colorization class of a colour: `a` and `b` each cut into 8 bins of width 32 over `[−128, 128)`
/// (clamped), class `8·i_a + i_b` in `0..64`.
pub fn color_class(rgb: [u8; 3]) -> u8 {
    lab_class(srgb_to_lab(rgb))
}

/// The colorization class of a CIE L*a*b* colour (see [`color_class`]).
pub fn lab_class([_, a, b]: [f64; 3]) -> u8 {
    let bin = |v: f64| (libm::floor((v + 128.0) / 32.0) as i64).clamp(0, 7) as u8;
    8 * bin(a) + bin(b)
}

/// The number of jigsaw permutations (classes).
pub const JIGSAW_PERMUTATIONS: usize = 100;

/// The fixed jigsaw permutations of 9 tiles: chosen greedily from 2 000 seeded random permutations so that
/// each new one maximises its minimum Hamming distance to those already chosen (Noroozi & Favaro, 2016),
/// starting from the identity. `perm[j]` is the original tile shown at grid position `j` (row-major).
pub fn jigsaw_permutations() -> &'static [[u8; 9]] {
    static TABLE: OnceLock<Vec<[u8; 9]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rng = Rng::new(0x0011_95a3, &[]);
        let mut candidates: Vec<[u8; 9]> = (0..2000)
            .map(|_| {
                let mut p = [0, 1, 2, 3, 4, 5, 6, 7, 8];
                rng.shuffle(&mut p);
                p
            })
            .collect();
        candidates.insert(0, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let hamming = |a: &[u8; 9], b: &[u8; 9]| a.iter().zip(b).filter(|(x, y)| x != y).count();
        let mut chosen = vec![candidates[0]];
        let mut min_dist: Vec<usize> = candidates
            .iter()
            .map(|c| hamming(c, &candidates[0]))
            .collect();
        while chosen.len() < JIGSAW_PERMUTATIONS {
            // The first candidate with the largest minimum distance (ties go to the lower index).
            let best = (0..candidates.len()).fold(0, |best, i| {
                if min_dist[i] > min_dist[best] {
                    i
                } else {
                    best
                }
            });
            chosen.push(candidates[best]);
            for (i, c) in candidates.iter().enumerate() {
                min_dist[i] = min_dist[i].min(hamming(c, &candidates[best]));
            }
        }
        chosen
    })
}

/// Rearranges the 3×3 tiles of a planar `[channels, size, size]` image by `perm` (see
/// [`jigsaw_permutations`]). Tiles are `⌊size/3⌋` pixels; the remaining right/bottom border stays in place.
pub fn apply_jigsaw(image: &[f32], channels: usize, size: usize, perm: &[u8; 9]) -> Vec<f32> {
    let t = size / 3;
    let mut out = image.to_vec();
    for c in 0..channels {
        let plane = c * size * size;
        for (slot, &tile) in perm.iter().enumerate() {
            let (dy, dx) = (slot / 3 * t, slot % 3 * t);
            let (sy, sx) = (usize::from(tile) / 3 * t, usize::from(tile) % 3 * t);
            for y in 0..t {
                let dst = plane + (dy + y) * size + dx;
                let src = plane + (sy + y) * size + sx;
                out[dst..dst + t].copy_from_slice(&image[src..src + t]);
            }
        }
    }
    out
}

/// Denoising input: the image plus Gaussian noise of standard deviation `sigma` (image units), clamped to
/// `[0, 1]`, drawn from `seed`.
pub fn add_noise(image: &[f32], sigma: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed, &[0x0004_015e]);
    image
        .iter()
        .map(|&v| (f64::from(v) + sigma * rng.normal()).clamp(0.0, 1.0) as f32)
        .collect()
}

/// Inpainting input: a square hole of side `size/2` at a position drawn from `seed`, filled with 0.5
/// (mid-grey) in every channel. Returns the masked image and the hole as `(x0, y0, side)`.
pub fn mask_square(
    image: &[f32],
    channels: usize,
    size: usize,
    seed: u64,
) -> (Vec<f32>, (usize, usize, usize)) {
    let mut rng = Rng::new(seed, &[0x3a5c]);
    let side = size / 2;
    let (x0, y0) = (rng.below(size - side + 1), rng.below(size - side + 1));
    let mut out = image.to_vec();
    for c in 0..channels {
        for y in y0..y0 + side {
            let row = c * size * size + y * size;
            out[row + x0..row + x0 + side].fill(0.5);
        }
    }
    (out, (x0, y0, side))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_of_reference_colours() {
        let white = srgb_to_lab([255, 255, 255]);
        assert!((white[0] - 100.0).abs() < 0.01 && white[1].abs() < 0.01 && white[2].abs() < 0.01);
        let black = srgb_to_lab([0, 0, 0]);
        assert!(black.iter().all(|v| v.abs() < 1e-9));
        // Pure sRGB red: L ≈ 53.24, a ≈ 80.09, b ≈ 67.20.
        let red = srgb_to_lab([255, 0, 0]);
        assert!(
            (red[0] - 53.24).abs() < 0.05
                && (red[1] - 80.09).abs() < 0.1
                && (red[2] - 67.20).abs() < 0.1,
            "{red:?}"
        );
        // Grey has a = b = 0, the bins at the centre: 8·4 + 4.
        assert_eq!(color_class([128, 128, 128]), 36);
        assert_eq!(color_class([255, 0, 0]), 8 * 6 + 6);
    }

    #[test]
    fn jigsaw_permutations_are_distinct_and_far_apart() {
        let perms = jigsaw_permutations();
        assert_eq!(perms.len(), JIGSAW_PERMUTATIONS);
        assert_eq!(perms[0], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let mut min = 9;
        for i in 0..perms.len() {
            let mut sorted = perms[i];
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
            for j in 0..i {
                min = min.min(
                    perms[i]
                        .iter()
                        .zip(&perms[j])
                        .filter(|(a, b)| a != b)
                        .count(),
                );
            }
        }
        assert!(min >= 6, "minimum Hamming distance {min}");
    }

    #[test]
    fn jigsaw_moves_tiles_and_its_inverse_restores_them() {
        let size = 7;
        let img: Vec<f32> = (0..size * size).map(|i| i as f32).collect();
        let perm = jigsaw_permutations()[5];
        let out = apply_jigsaw(&img, 1, size, &perm);
        // Slot 0 shows original tile perm[0].
        let t = usize::from(perm[0]);
        assert_eq!(out[0], img[(t / 3 * 2) * size + t % 3 * 2]);
        let mut inverse = [0u8; 9];
        for (slot, &tile) in perm.iter().enumerate() {
            inverse[usize::from(tile)] = slot as u8;
        }
        assert_eq!(apply_jigsaw(&out, 1, size, &inverse), img);
    }

    #[test]
    fn corruptions_are_reproducible() {
        let img = vec![0.5f32; 3 * 8 * 8];
        assert_eq!(add_noise(&img, 0.1, 3), add_noise(&img, 0.1, 3));
        assert_ne!(add_noise(&img, 0.1, 3), add_noise(&img, 0.1, 4));
        let (masked, (x0, y0, side)) = mask_square(
            &(0..192).map(|i| i as f32 / 192.0).collect::<Vec<_>>(),
            3,
            8,
            9,
        );
        assert_eq!(side, 4);
        assert_eq!(masked[64 + y0 * 8 + x0], 0.5);
    }
}
