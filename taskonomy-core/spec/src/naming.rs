//! How tasks are named: snake_case names derived from type names, and suggestions for misspellings.

use std::fmt;

/// A rule a task name or alias breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// The name is empty.
    Empty,
    /// The name does not start with a lowercase ASCII letter.
    MustStartWithLetter,
    /// The name holds a character other than `a-z`, `0-9` and `_`.
    InvalidCharacter(char),
    /// The name has `__`, or starts or ends with `_`.
    StrayUnderscore,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::Empty => f.write_str("it is empty"),
            NameRule::MustStartWithLetter => f.write_str("it must start with a lowercase letter"),
            NameRule::InvalidCharacter(c) => {
                write!(f, "`{c}` is not allowed (use a-z, 0-9 and single `_`)")
            }
            NameRule::StrayUnderscore => {
                f.write_str("underscores separate words: no leading, trailing or double `_`")
            }
        }
    }
}

/// Checks that `name` is snake_case: lowercase words of `a-z0-9`, separated by single underscores,
/// starting with a letter (`surface_normals`, `rgb2depth`, `class_1000`).
///
/// ```
/// use taskonomy_spec::{is_snake_case, NameRule};
/// assert!(is_snake_case("rgb2sfnorm").is_ok());
/// assert_eq!(is_snake_case("SurfaceNormals"), Err(NameRule::MustStartWithLetter));
/// ```
pub fn is_snake_case(name: &str) -> Result<(), NameRule> {
    let first = name.chars().next().ok_or(NameRule::Empty)?;
    if !first.is_ascii_lowercase() {
        return Err(NameRule::MustStartWithLetter);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(NameRule::InvalidCharacter(bad));
    }
    if name.ends_with('_') || name.contains("__") {
        return Err(NameRule::StrayUnderscore);
    }
    Ok(())
}

/// The default task name of a type: words split at capitals, a run of capitals is one word, and digits
/// stay with the word before them (`SurfaceNormals` → `surface_normals`, `Rgb2Depth` → `rgb2depth`,
/// `RGBDepth` → `rgb_depth`).
///
/// ```
/// use taskonomy_spec::snake_case_from_type_name;
/// assert_eq!(snake_case_from_type_name("SurfaceNormals"), "surface_normals");
/// assert_eq!(snake_case_from_type_name("Edges2D"), "edges2d");
/// assert_eq!(snake_case_from_type_name("RGBDepth"), "rgb_depth");
/// ```
pub fn snake_case_from_type_name(type_name: &str) -> String {
    let chars: Vec<char> = type_name.chars().collect();
    let mut out = String::with_capacity(type_name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            // A new word starts at a capital that follows a lowercase letter (`faceNormals`) or that ends
            // a run of capitals before a lowercase letter (the `S` of `RGBSegment`). Digits glue to the
            // word before them, so `2D` stays with its word.
            let after_lower = prev.is_some_and(|p| p.is_ascii_lowercase());
            let ends_acronym = prev.is_some_and(|p| p.is_ascii_uppercase())
                && next.is_some_and(|n| n.is_ascii_lowercase());
            if !out.is_empty() && !out.ends_with('_') && (after_lower || ends_acronym) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The candidate closest to `input` by edit distance, if it is close enough to be a likely typo
/// (at most a third of the input's length, rounded up).
///
/// ```
/// use taskonomy_spec::closest_match;
/// assert_eq!(closest_match("lable_cost", ["label_cost", "importance"]), Some("label_cost"));
/// assert_eq!(closest_match("colour", ["label_cost", "importance"]), None);
/// ```
pub fn closest_match<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let allowed = input.chars().count().div_ceil(3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(input, candidate), candidate))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, with a transposition of neighbours counting as one edit (so `lable` is one edit
/// from `label`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_accepts_the_papers_names() {
        for name in [
            "rgb2sfnorm",
            "segmentsemantic_rb",
            "class_1000",
            "vanishing_point_well_defined",
            "segment25d",
        ] {
            assert_eq!(is_snake_case(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn snake_case_rejects_with_a_reason() {
        assert_eq!(is_snake_case(""), Err(NameRule::Empty));
        assert_eq!(is_snake_case("Depth"), Err(NameRule::MustStartWithLetter));
        assert_eq!(
            is_snake_case("2d_edges"),
            Err(NameRule::MustStartWithLetter)
        );
        assert_eq!(
            is_snake_case("z-depth"),
            Err(NameRule::InvalidCharacter('-'))
        );
        assert_eq!(
            is_snake_case("zDepth"),
            Err(NameRule::InvalidCharacter('D'))
        );
        assert_eq!(is_snake_case("z__depth"), Err(NameRule::StrayUnderscore));
        assert_eq!(is_snake_case("depth_"), Err(NameRule::StrayUnderscore));
    }

    #[test]
    fn type_names_become_snake_case() {
        for (type_name, name) in [
            ("Depth", "depth"),
            ("SurfaceNormals", "surface_normals"),
            ("Edges2D", "edges2d"),
            ("Keypoints3D", "keypoints3d"),
            ("RGBSegment", "rgb_segment"),
            ("EgoMotion", "ego_motion"),
            ("Segment25D", "segment25d"),
        ] {
            assert_eq!(snake_case_from_type_name(type_name), name);
            assert_eq!(is_snake_case(name), Ok(()));
        }
    }

    #[test]
    fn edit_distance_counts_typos() {
        assert_eq!(edit_distance("label_cost", "label_cost"), 0);
        assert_eq!(edit_distance("lable_cost", "label_cost"), 1);
        assert_eq!(edit_distance("los", "loss"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn closest_match_prefers_the_nearest() {
        let keys = ["output", "loss", "label_cost", "importance", "aliases"];
        assert_eq!(closest_match("los", keys), Some("loss"));
        assert_eq!(closest_match("alias", keys), Some("aliases"));
        assert_eq!(closest_match("importanse", keys), Some("importance"));
        assert_eq!(closest_match("resolution", keys), None);
    }
}
