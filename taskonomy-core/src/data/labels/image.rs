//! Image operators behind the 2-D and 2.5-D labels: Gaussian blur, Sobel gradients, Canny edges, the
//! Harris corner response, and graph-based segmentation (Felzenszwalb & Huttenlocher, IJCV 2004).
//!
//! All work on planar `f32` channels of a square `size × size` image with clamped borders, in a fixed
//! order of operations, so the labels are as reproducible as the renders.

/// A normalised 1-D Gaussian kernel of standard deviation `sigma` (pixels), radius `⌈3σ⌉`.
fn gaussian_kernel(sigma: f64) -> Vec<f32> {
    let radius = libm::ceil(3.0 * sigma).max(1.0) as i64;
    let w: Vec<f64> = (-radius..=radius)
        .map(|x| libm::exp(-((x * x) as f64) / (2.0 * sigma * sigma)))
        .collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|v| (v / total) as f32).collect()
}

/// Separable Gaussian blur of one channel, borders clamped.
pub fn blur(channel: &[f32], size: usize, sigma: f64) -> Vec<f32> {
    let k = gaussian_kernel(sigma);
    let r = k.len() / 2;
    let n = size * size;
    // Horizontal pass over rows padded with their edge values, so the inner loop has no bounds logic.
    let mut tmp = vec![0.0f32; n];
    let mut padded = vec![0.0f32; size + 2 * r];
    for y in 0..size {
        let row = &channel[y * size..(y + 1) * size];
        padded[..r].fill(row[0]);
        padded[r..r + size].copy_from_slice(row);
        padded[r + size..].fill(row[size - 1]);
        let out = &mut tmp[y * size..(y + 1) * size];
        for (j, &w) in k.iter().enumerate() {
            for (o, &p) in out.iter_mut().zip(&padded[j..j + size]) {
                *o += w * p;
            }
        }
    }
    // Vertical pass: whole rows at a time, the source row clamped.
    let mut out = vec![0.0f32; n];
    for y in 0..size {
        let dst = &mut out[y * size..(y + 1) * size];
        for (j, &w) in k.iter().enumerate() {
            let sy = (y + j).saturating_sub(r).min(size - 1);
            for (o, &p) in dst.iter_mut().zip(&tmp[sy * size..(sy + 1) * size]) {
                *o += w * p;
            }
        }
    }
    out
}

/// Sobel derivatives `(∂/∂x, ∂/∂y)` per pixel (the 3×3 Sobel responses divided by 8, so a ramp of slope
/// `s` per pixel gives `s`), borders clamped; `y` grows downwards.
pub fn sobel(channel: &[f32], size: usize) -> (Vec<f32>, Vec<f32>) {
    let at = |x: isize, y: isize| {
        channel
            [y.clamp(0, size as isize - 1) as usize * size + x.clamp(0, size as isize - 1) as usize]
    };
    let mut gx = vec![0.0f32; channel.len()];
    let mut gy = vec![0.0f32; channel.len()];
    for y in 0..size as isize {
        for x in 0..size as isize {
            let i = y as usize * size + x as usize;
            gx[i] = ((at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1))
                - (at(x - 1, y - 1) + 2.0 * at(x - 1, y) + at(x - 1, y + 1)))
                / 8.0;
            gy[i] = ((at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1))
                - (at(x - 1, y - 1) + 2.0 * at(x, y - 1) + at(x + 1, y - 1)))
                / 8.0;
        }
    }
    (gx, gy)
}

/// Edge strength, Canny's first two stages: the Sobel gradient of the channel blurred by a Gaussian of σ
/// pixels, `(∂/∂x, ∂/∂y)` and its magnitude per pixel (channel units per pixel).
pub fn edge_strength(channel: &[f32], size: usize, sigma: f64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let smooth = blur(channel, size, sigma);
    let (gx, gy) = sobel(&smooth, size);
    let mag = gx
        .iter()
        .zip(&gy)
        .map(|(x, y)| (x * x + y * y).sqrt())
        .collect();
    (gx, gy, mag)
}

/// Canny's edge detector: the [`edge_strength`] of the channel (Gaussian blur of σ pixels, Sobel
/// gradient), non-maximum suppression across the gradient direction, and hysteresis between the `low`
/// and `high` gradient magnitudes (channel units per pixel). Returns 1.0 on edge pixels and 0.0
/// elsewhere.
pub fn canny(channel: &[f32], size: usize, sigma: f64, low: f32, high: f32) -> Vec<f32> {
    let (gx, gy, mag) = edge_strength(channel, size, sigma);
    let mut keep = vec![0u8; mag.len()]; // 0 none, 1 weak, 2 strong
    let tan22 = 0.414_213_56f32;
    for y in 1..size.saturating_sub(1) {
        for x in 1..size - 1 {
            let i = y * size + x;
            let m = mag[i];
            if m < low {
                continue;
            }
            let (ax, ay) = (gx[i].abs(), gy[i].abs());
            // Neighbours along the gradient, from the direction quantised to 0°, 45°, 90° or 135°.
            let (a, b) = if ay <= tan22 * ax {
                (i - 1, i + 1)
            } else if ax <= tan22 * ay {
                (i - size, i + size)
            } else if (gx[i] > 0.0) == (gy[i] > 0.0) {
                (i - size - 1, i + size + 1)
            } else {
                (i - size + 1, i + size - 1)
            };
            // Strict on one side, loose on the other, so a two-pixel-wide plateau keeps exactly one pixel.
            if m > mag[a] && m >= mag[b] {
                keep[i] = if m >= high { 2 } else { 1 };
            }
        }
    }
    let mut out = vec![0.0f32; mag.len()];
    let mut stack: Vec<usize> = (0..keep.len()).filter(|&i| keep[i] == 2).collect();
    for &i in &stack {
        out[i] = 1.0;
    }
    while let Some(i) = stack.pop() {
        let (x, y) = ((i % size) as isize, (i / size) as isize);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= size as isize || ny >= size as isize {
                    continue;
                }
                let j = ny as usize * size + nx as usize;
                if keep[j] == 1 && out[j] == 0.0 {
                    out[j] = 1.0;
                    stack.push(j);
                }
            }
        }
    }
    out
}

/// The Harris corner response `R = det M − 0.04·(tr M)²` of the structure tensor
/// `M = G_σ * Σ_c ∇I_c ∇I_cᵀ`, summed over the given channels (Sobel gradients, window σ pixels).
/// Units: (channel units per pixel)⁴.
pub fn harris(channels: &[&[f32]], size: usize, sigma: f64) -> Vec<f32> {
    let n = size * size;
    let (mut a, mut b, mut c) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
    for ch in channels {
        let (gx, gy) = sobel(ch, size);
        for i in 0..n {
            a[i] += gx[i] * gx[i];
            b[i] += gy[i] * gy[i];
            c[i] += gx[i] * gy[i];
        }
    }
    let (a, b, c) = (
        blur(&a, size, sigma),
        blur(&b, size, sigma),
        blur(&c, size, sigma),
    );
    (0..n)
        .map(|i| a[i] * b[i] - c[i] * c[i] - 0.04 * (a[i] + b[i]) * (a[i] + b[i]))
        .collect()
}

/// Graph-based segmentation (Felzenszwalb & Huttenlocher 2004) of a `size × size` image whose pixel `i` has
/// the feature vector `features[i·dims..(i + 1)·dims]`: 8-connected pixel graph weighted by the Euclidean
/// feature distance; regions merge while the joining edge is no heavier than either region's internal
/// difference plus `k / |region|`; regions smaller than `min_size` are then merged into a neighbour.
/// Returns segment ids numbered `0, 1, …` in the order their first pixel appears in a row-major scan.
pub fn felzenszwalb(
    features: &[f32],
    dims: usize,
    size: usize,
    k: f32,
    min_size: usize,
) -> Vec<u32> {
    let n = size * size;
    let feature = |i: usize| &features[i * dims..(i + 1) * dims];
    let dist = |i: usize, j: usize| -> f32 {
        feature(i)
            .iter()
            .zip(feature(j))
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    };
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(4 * n);
    for y in 0..size {
        for x in 0..size {
            let i = y * size + x;
            if x + 1 < size {
                pairs.push((i as u32, (i + 1) as u32));
            }
            if y + 1 < size {
                pairs.push((i as u32, (i + size) as u32));
                if x + 1 < size {
                    pairs.push((i as u32, (i + size + 1) as u32));
                }
                if x > 0 {
                    pairs.push((i as u32, (i + size - 1) as u32));
                }
            }
        }
    }
    // Sort by weight, ties by construction order: the key packs the weight's bits (monotonic for
    // non-negative floats) above the edge index, so every key is unique and the order reproducible.
    let mut order: Vec<u64> = pairs
        .iter()
        .enumerate()
        .map(|(e, &(a, b))| (u64::from(dist(a as usize, b as usize).to_bits()) << 32) | e as u64)
        .collect();
    order.sort_unstable();
    let mut sets = DisjointSets::new(n);
    let mut internal = vec![0.0f32; n];
    for &key in &order {
        let w = f32::from_bits((key >> 32) as u32);
        let (a, b) = pairs[(key & 0xffff_ffff) as usize];
        let (ra, rb) = (sets.find(a as usize), sets.find(b as usize));
        if ra != rb
            && w <= internal[ra] + k / sets.size[ra] as f32
            && w <= internal[rb] + k / sets.size[rb] as f32
        {
            let r = sets.union(ra, rb);
            internal[r] = w;
        }
    }
    for &key in &order {
        let (a, b) = pairs[(key & 0xffff_ffff) as usize];
        let (ra, rb) = (sets.find(a as usize), sets.find(b as usize));
        if ra != rb && (sets.size[ra] < min_size || sets.size[rb] < min_size) {
            sets.union(ra, rb);
        }
    }
    let mut ids = vec![u32::MAX; n];
    let mut out = vec![0u32; n];
    let mut next = 0u32;
    for (i, slot) in out.iter_mut().enumerate() {
        let r = sets.find(i);
        if ids[r] == u32::MAX {
            ids[r] = next;
            next += 1;
        }
        *slot = ids[r];
    }
    out
}

/// Union–find with union by size and path halving.
struct DisjointSets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        DisjointSets {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins two roots; returns the new root.
    fn union(&mut self, a: usize, b: usize) -> usize {
        let (big, small) = if self.size[a] >= self.size[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small] = big;
        self.size[big] += self.size[small];
        big
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dark square on a light background.
    fn square(size: usize) -> Vec<f32> {
        (0..size * size)
            .map(|i| {
                if (8..24).contains(&(i % size)) && (8..24).contains(&(i / size)) {
                    0.1
                } else {
                    0.9
                }
            })
            .collect()
    }

    #[test]
    fn blur_preserves_constants_and_mass() {
        let c = vec![0.5f32; 16 * 16];
        assert!(blur(&c, 16, 1.3).iter().all(|v| (v - 0.5).abs() < 1e-6));
    }

    #[test]
    fn sobel_of_a_ramp_is_its_slope() {
        let size = 10;
        let ramp: Vec<f32> = (0..size * size).map(|i| 0.25 * (i % size) as f32).collect();
        let (gx, gy) = sobel(&ramp, size);
        assert!((gx[5 * size + 5] - 0.25).abs() < 1e-6);
        assert!(gy[5 * size + 5].abs() < 1e-6);
    }

    #[test]
    fn edge_strength_is_the_blurred_gradient_magnitude() {
        // A ramp's strength is its slope, blurred or not, away from the clamped borders.
        let size = 16;
        let ramp: Vec<f32> = (0..size * size).map(|i| 0.02 * (i % size) as f32).collect();
        let (gx, gy, strength) = edge_strength(&ramp, size, 1.0);
        let at = 8 * size + 8;
        assert!((gx[at] - 0.02).abs() < 1e-5 && gy[at].abs() < 1e-6);
        assert!((strength[at] - 0.02).abs() < 1e-5);
        // The square: strong on its outline, nothing inside or far outside.
        let (_, _, strength) = edge_strength(&square(32), 32, 1.0);
        let row = 16 * 32;
        assert!(strength[row + 8] > 0.2 && strength[row + 23] > 0.2);
        assert!(strength[row + 16] < 1e-4 && strength[row + 2] < 1e-4);
    }

    #[test]
    fn canny_traces_the_square_outline_and_nothing_inside() {
        let img = square(32);
        let e = canny(&img, 32, 1.0, 0.03, 0.08);
        // Every row crossing the square has an edge near x = 8 and near x = 23.5, none in the middle.
        for y in 10..22 {
            assert!(
                (6..=9).any(|x| e[y * 32 + x] == 1.0),
                "left edge missing on row {y}"
            );
            assert!(
                (22..=25).any(|x| e[y * 32 + x] == 1.0),
                "right edge missing on row {y}"
            );
            assert!((12..20).all(|x| e[y * 32 + x] == 0.0));
        }
        assert_eq!(e[2 * 32 + 2], 0.0);
    }

    #[test]
    fn harris_peaks_at_corners_not_along_edges() {
        let img = square(32);
        let r = harris(&[&img], 32, 1.0);
        let corner = r[8 * 32 + 8]
            .max(r[7 * 32 + 7])
            .max(r[8 * 32 + 7])
            .max(r[7 * 32 + 8]);
        let edge = r[16 * 32 + 8];
        let flat = r[16 * 32 + 16];
        assert!(
            corner > 0.0 && corner > 10.0 * edge.max(0.0),
            "corner {corner} edge {edge}"
        );
        assert!(edge <= 0.0 + 1e-9);
        assert!(flat.abs() < 1e-9);
    }

    #[test]
    fn felzenszwalb_separates_the_square_from_the_background() {
        let img = square(32);
        let seg = felzenszwalb(&img, 1, 32, 0.5, 4);
        assert_eq!(seg[0], 0);
        assert_eq!(seg[16 * 32 + 16], 1);
        assert_eq!(*seg.iter().max().unwrap(), 1);
    }
}
