//! Matrix products on host slices, through the `gemm` crate that dfdx's CPU matmul itself calls.
//!
//! The fused CPU operations multiply the values they already hold on the host, so they call `gemm`
//! directly, the way dfdx does (same argument layout, same parallelism), instead of going through a dfdx
//! tensor that would need a zero-filled output and a copy of every operand.

/// The element types `gemm` multiplies: the networks' `f32`, and the `f64` of the estimators' moments.
pub(crate) trait Element: Copy + 'static {
    /// Zero and one, the factors of a product that overwrites or accumulates.
    const ZERO: Self;
    /// One.
    const ONE: Self;
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// A matrix in a slice: element `(i, j)` at `i · row_stride + j · col_stride`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strided<'a, T = f32> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> Strided<'a, T> {
    /// A row-major `rows × cols` matrix.
    pub(crate) fn rows(data: &'a [T], rows: usize, cols: usize) -> Self {
        Strided {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// A row-major `rows × cols` matrix whose rows lie `row_stride` values apart: a block of columns of
    /// a wider row-major matrix, starting at the block's first value.
    pub(crate) fn with_row_stride(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
    ) -> Self {
        Strided {
            data,
            rows,
            cols,
            row_stride,
            col_stride: 1,
        }
    }

    /// A column-major `rows × cols` matrix (nalgebra's layout).
    pub(crate) fn columns(data: &'a [T], rows: usize, cols: usize) -> Self {
        Strided {
            data,
            rows,
            cols,
            row_stride: 1,
            col_stride: rows,
        }
    }

    /// The transpose, without moving any value.
    pub(crate) fn t(self) -> Self {
        Strided {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside the slice.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// `dst = a · b`, or `dst += a · b` when `accumulate`; `dst` is row-major `a.rows × b.cols`.
///
/// # Panics
/// When the sizes do not fit together or a matrix does not fit in its slice (a bug in the caller).
#[allow(unsafe_code)]
pub(crate) fn matmul<T: Element>(
    dst: &mut [T],
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    accumulate: bool,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        b.rows == k && dst.len() == m * n && a.in_bounds() && b.in_bounds(),
        "matmul of {m}×{k} by {}×{n} into {} values",
        b.rows,
        dst.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: `a` and `b` lie inside their slices and `dst` holds exactly `m × n` values (checked above),
    // so every offset gemm computes from these sizes and strides is in bounds; `dst` is borrowed mutably,
    // so it does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            if accumulate { T::ONE } else { T::ZERO },
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_of_views_and_transposes() {
        // a = [[1, 2, 3], [4, 5, 6]], b = [[1, 0], [0, 1], [1, 1]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut ab = [0.0; 4];
        matmul(
            &mut ab,
            Strided::rows(&a, 2, 3),
            Strided::rows(&b, 3, 2),
            false,
        );
        assert_eq!(ab, [4.0, 5.0, 10.0, 11.0]);
        // Accumulating adds the product to what is there.
        matmul(
            &mut ab,
            Strided::rows(&a, 2, 3),
            Strided::rows(&b, 3, 2),
            true,
        );
        assert_eq!(ab, [8.0, 10.0, 20.0, 22.0]);
        // aᵀ a through a transposed view: 3×3.
        let mut ata = [0.0; 9];
        let view = Strided::rows(&a, 2, 3);
        matmul(&mut ata, view.t(), view, false);
        assert_eq!(ata, [17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
    }

    #[test]
    #[should_panic(expected = "matmul of 2×3 by 2×2")]
    fn mismatched_sizes_are_refused() {
        let a = [0.0; 6];
        matmul(
            &mut [0.0; 4],
            Strided::rows(&a, 2, 3),
            Strided::rows(&a[..4], 2, 2),
            false,
        );
    }
}
