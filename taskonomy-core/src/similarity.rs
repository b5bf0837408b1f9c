//! The task similarity tree (the paper's Figure 14): tasks clustered by how they transfer out.
//!
//! Each source task is described by its column of the normalised affinity matrix — how much it helps
//! every target. Tasks that help the same targets in the same proportions are alike, so the distance is
//! the cosine distance `1 − cos(a, b)` between those vectors (insensitive to a task being a good source
//! overall), and clusters are merged bottom-up by average linkage (UPGMA): the distance between two
//! clusters is the mean distance between their members.

/// One merge of two clusters, in the order the merges happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Merge {
    /// The first cluster: `i < n` is the leaf `i`; `n + k` is the cluster made by merge `k`.
    pub left: usize,
    /// The second cluster, numbered the same way.
    pub right: usize,
    /// The average-linkage distance at which they merged.
    pub distance: f64,
    /// The number of leaves in the merged cluster.
    pub size: usize,
}

/// A complete agglomerative clustering of `labels`: `labels.len() − 1` merges.
#[derive(Clone, Debug, PartialEq)]
pub struct Linkage {
    /// The leaves' names.
    pub labels: Vec<String>,
    /// The merges, closest first.
    pub merges: Vec<Merge>,
}

/// Why a clustering could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClusterError {
    /// Feature vectors of different lengths.
    #[error("task `{label}` has {found} features, expected {expected} like the first task")]
    RaggedFeatures {
        /// The offending task.
        label: String,
        /// Its number of features.
        found: usize,
        /// The first task's number of features.
        expected: usize,
    },
    /// A feature that is NaN or infinite.
    #[error("task `{label}` has a non-finite feature")]
    NonFinite {
        /// The offending task.
        label: String,
    },
    /// Fewer labels than feature vectors or the other way round.
    #[error("{labels} labels for {vectors} feature vectors")]
    LabelCount {
        /// Number of labels.
        labels: usize,
        /// Number of vectors.
        vectors: usize,
    },
}

/// The cosine distance `1 − a·b / (|a| |b|)`, in [0, 2]. A zero vector is at distance 1 from everything
/// (no direction to compare), and at 0 from itself.
pub fn cosine_distance(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm_a = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let norm_b = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm_a == 0.0 || norm_b == 0.0 {
        return if norm_a == norm_b { 0.0 } else { 1.0 };
    }
    (1.0 - dot / (norm_a * norm_b)).clamp(0.0, 2.0)
}

/// Clusters `features[i]` (named `labels[i]`) by average linkage on cosine distance.
///
/// Ties between equally close pairs are broken by the lower cluster numbers, so the tree is the same on
/// every run.
pub fn cluster(labels: Vec<String>, features: &[Vec<f64>]) -> Result<Linkage, ClusterError> {
    if labels.len() != features.len() {
        return Err(ClusterError::LabelCount {
            labels: labels.len(),
            vectors: features.len(),
        });
    }
    if let Some(first) = features.first() {
        for (label, vector) in labels.iter().zip(features) {
            if vector.len() != first.len() {
                return Err(ClusterError::RaggedFeatures {
                    label: label.clone(),
                    found: vector.len(),
                    expected: first.len(),
                });
            }
            if vector.iter().any(|v| !v.is_finite()) {
                return Err(ClusterError::NonFinite {
                    label: label.clone(),
                });
            }
        }
    }
    let n = features.len();
    // Active clusters: (cluster number, leaves).
    let mut active: Vec<(usize, Vec<usize>)> = (0..n).map(|i| (i, vec![i])).collect();
    let leaf_distance: Vec<Vec<f64>> = features
        .iter()
        .map(|a| features.iter().map(|b| cosine_distance(a, b)).collect())
        .collect();
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    while active.len() > 1 {
        let mut best: Option<(f64, usize, usize)> = None;
        for i in 0..active.len() {
            for j in i + 1..active.len() {
                let (a, b) = (&active[i].1, &active[j].1);
                let total: f64 = a
                    .iter()
                    .flat_map(|&x| b.iter().map(move |&y| (x, y)))
                    .map(|(x, y)| leaf_distance[x][y])
                    .sum();
                let distance = total / (a.len() * b.len()) as f64;
                // Strictly smaller wins, so the first pair in scan order wins ties.
                if best.is_none_or(|(d, _, _)| distance < d - 1e-12) {
                    best = Some((distance, i, j));
                }
            }
        }
        let Some((distance, i, j)) = best else { break };
        let (right_id, right_leaves) = active.remove(j);
        let (left_id, mut left_leaves) = active.remove(i);
        left_leaves.extend(right_leaves);
        merges.push(Merge {
            left: left_id,
            right: right_id,
            distance,
            size: left_leaves.len(),
        });
        active.push((n + merges.len() - 1, left_leaves));
    }
    Ok(Linkage { labels, merges })
}

impl Linkage {
    /// The leaves in the order a dendrogram draws them, so that clusters are contiguous (used to order
    /// heat maps by cluster).
    pub fn leaf_order(&self) -> Vec<usize> {
        let n = self.labels.len();
        if n == 0 {
            return Vec::new();
        }
        let Some(root) = self.merges.len().checked_sub(1).map(|k| n + k) else {
            return vec![0];
        };
        let mut order = Vec::with_capacity(n);
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if node < n {
                order.push(node);
            } else {
                let merge = &self.merges[node - n];
                // Pushed right first so that the left subtree is listed first.
                stack.push(merge.right);
                stack.push(merge.left);
            }
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cosine_distance_ignores_scale() {
        assert!(cosine_distance(&[1.0, 2.0], &[2.0, 4.0]).abs() < 1e-12);
        assert!((cosine_distance(&[1.0, 0.0], &[0.0, 1.0]) - 1.0).abs() < 1e-12);
        assert_eq!(cosine_distance(&[0.0, 0.0], &[1.0, 0.0]), 1.0);
    }

    #[test]
    fn alike_tasks_merge_first() {
        // Two geometric tasks (help targets 0 and 1) and two semantic ones (help target 2).
        let features = vec![
            vec![0.9, 0.8, 0.1],
            vec![0.1, 0.1, 0.9],
            vec![0.45, 0.4, 0.05],
            vec![0.05, 0.1, 0.8],
        ];
        let linkage = cluster(labels(&["depth", "class", "normals", "scene"]), &features).unwrap();
        assert_eq!(linkage.merges.len(), 3);
        let first = &linkage.merges[0];
        assert_eq!((first.left, first.right), (0, 2));
        let second = &linkage.merges[1];
        assert_eq!((second.left, second.right), (1, 3));
        assert_eq!(linkage.merges[2].size, 4);
        assert!(linkage.merges[0].distance <= linkage.merges[1].distance);
        assert!(linkage.merges[1].distance <= linkage.merges[2].distance);
        let order = linkage.leaf_order();
        assert_eq!(order, [0, 2, 1, 3]);
    }

    #[test]
    fn average_linkage_is_the_mean_member_distance() {
        let features = vec![vec![1.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]];
        let linkage = cluster(labels(&["a", "b", "c"]), &features).unwrap();
        assert_eq!(linkage.merges[0].distance, 0.0);
        assert!((linkage.merges[1].distance - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_features_are_named() {
        let error = cluster(labels(&["a", "b"]), &[vec![1.0], vec![1.0, 2.0]]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "task `b` has 2 features, expected 1 like the first task"
        );
        let error = cluster(labels(&["a"]), &[vec![f64::NAN]]).unwrap_err();
        assert_eq!(error, ClusterError::NonFinite { label: "a".into() });
        assert!(cluster(labels(&["a"]), &[]).is_err());
    }

    #[test]
    fn degenerate_sizes() {
        assert_eq!(
            cluster(Vec::new(), &[]).unwrap().leaf_order(),
            Vec::<usize>::new()
        );
        assert_eq!(
            cluster(labels(&["a"]), &[vec![1.0]]).unwrap().leaf_order(),
            [0]
        );
    }
}
