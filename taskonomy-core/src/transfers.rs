//! Tables of transfer measurements: one value per transfer `({s₁, …, sₘ}, t)`.
//!
//! This is the plain-text format the Taskonomy authors' released numbers are vendored in
//! (`data/taskonomy2018/`), and the format our own affinity stage writes:
//!
//! ```text
//! sources,target,order,value
//! rgb2sfnorm,rgb2depth,1,0.0914
//! curvature+rgb2sfnorm,rgb2depth,2,0.1012
//! self,rgb2depth,1,0.2718
//! ```
//!
//! `sources` joins the source task names with `+`, `order` is how many there are, `value` is a
//! non-negative number (an affinity or a win rate: higher is better). Names are plain strings; the
//! pseudo-sources [`PSEUDO_SOURCES`] are baselines, not tasks.
//!
//! Reading is parse → validate: every malformed line is reported at once, each with its file and line.
//! One kind of well-formed row is skipped rather than refused: a baseline combined with other sources
//! (`denoise+random,autoencoder,2,0.05`). The authors' released higher-order tables (their 1k and 16k
//! affinities and win rates) hold such rows, but a baseline is not a task anyone can label, so no
//! taxonomy could use them. The table counts them ([`Transfers::skipped`]) so that a reader can say what
//! was left out.
//!
//! ```
//! use taskonomy_core::transfers::Transfers;
//! let table = Transfers::parse(
//!     "sources,target,order,value\ndenoise,edge2d,1,0.25\ndenoise+edge3d,edge2d,2,0.5\n",
//!     "inline.csv",
//! )?;
//! assert_eq!(table.targets(), ["edge2d"]);
//! assert_eq!(table.get(&["edge3d", "denoise"], "edge2d").map(|row| row.value), Some(0.5));
//! # Ok::<(), taskonomy_core::transfers::TransfersError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::spec::Dictionary;

/// The header every table starts with.
pub const HEADER: &str = "sources,target,order,value";

/// The pseudo-source of the target's own fully supervised network (the reference of Quality).
pub const SELF: &str = "self";
/// The pseudo-source of a randomly initialised, frozen encoder (the floor every real source must beat).
pub const RANDOM: &str = "random";
/// The pseudo-source of a network trained from scratch on the transfer data (the reference of Gain; the
/// paper's "pixels").
pub const PIXELS: &str = "pixels";

/// Baselines that appear in the `sources` column but are not tasks, so can never be chosen as sources of
/// a taxonomy.
pub const PSEUDO_SOURCES: [&str; 3] = [SELF, RANDOM, PIXELS];

/// Whether `name` is one of the [`PSEUDO_SOURCES`].
pub fn is_pseudo_source(name: &str) -> bool {
    PSEUDO_SOURCES.contains(&name)
}

/// One measured transfer `({s₁, …, sₘ}, t)` and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfer {
    /// The source task names, sorted and distinct (the transfer's order is their number).
    pub sources: Vec<String>,
    /// The target task name.
    pub target: String,
    /// The measurement: an affinity or a win rate, finite and non-negative, higher is better.
    pub value: f64,
    /// Where the row came from: its 1-based line in the file, or its 1-based position when the table was
    /// built from rows in memory. Error messages cite it.
    pub line: usize,
}

impl Transfer {
    /// A transfer from `sources` (any order) to `target`; `line` is set when the row joins a table.
    pub fn new<S: AsRef<str>>(sources: &[S], target: &str, value: f64) -> Self {
        let mut sources: Vec<String> = sources.iter().map(|s| s.as_ref().to_owned()).collect();
        sources.sort();
        Transfer {
            sources,
            target: target.to_owned(),
            value,
            line: 0,
        }
    }

    /// The transfer's order: its number of sources.
    pub fn order(&self) -> usize {
        self.sources.len()
    }

    /// The sources joined with `+`, as written in the file.
    pub fn sources_label(&self) -> String {
        self.sources.join("+")
    }

    /// Whether a baseline ([`PSEUDO_SOURCES`]) is one of several sources: `denoise+random`. A file may
    /// hold such rows (they are skipped); a table built in memory may not.
    pub fn combines_a_baseline(&self) -> bool {
        self.order() > 1 && self.sources.iter().any(|s| is_pseudo_source(s))
    }
}

/// A validated table of transfers: no duplicate `(sources, target)`, every value finite and non-negative,
/// no baseline combined with other sources.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfers {
    origin: String,
    rows: Vec<Transfer>,
    skipped: Option<Skipped>,
}

/// The rows of a file that [`Transfers::parse`] left out of the table: those that combine a baseline with
/// other sources ([`Transfer::combines_a_baseline`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// How many rows were skipped (at least 1).
    pub count: usize,
    /// The first of them, its `line` set, for a message to cite.
    pub first: Transfer,
}

/// Why a table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TransfersError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Some rows are malformed or invalid; every one is listed.
    #[error("{origin}: {} invalid row(s):{}", problems.len(), list_problems(origin, problems))]
    Invalid {
        /// The file (or the name given to an in-memory table).
        origin: String,
        /// One entry per offending line, in line order.
        problems: Vec<RowProblem>,
    },
}

/// What is wrong with one line of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    /// The 1-based line (or row) number.
    pub line: usize,
    /// What was expected and what was found.
    pub message: String,
}

fn list_problems(origin: &str, problems: &[RowProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  {origin}:{}: {}", p.line, p.message))
        .collect()
}

impl Transfers {
    /// Reads a table from a file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TransfersError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TransfersError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses a table from text; `origin` names it in error messages (usually the file name).
    ///
    /// Blank lines are skipped; the first non-blank line must be the [`HEADER`]. Fields are not quoted
    /// (task names never contain commas). Well-formed rows that combine a baseline with other sources are
    /// left out and counted ([`Transfers::skipped`]); as they are not kept, their values are not judged.
    ///
    /// ```
    /// use taskonomy_core::transfers::Transfers;
    /// let table = Transfers::parse(
    ///     "sources,target,order,value\n\
    ///      denoise,edge2d,1,0.25\n\
    ///      denoise+random,edge2d,2,0.1\n\
    ///      edge3d+self,edge2d,2,0.3\n",
    ///     "released.csv",
    /// )?;
    /// assert_eq!(table.rows().len(), 1);
    /// let skipped = table.skipped().expect("two rows combine a baseline with a task");
    /// assert_eq!((skipped.count, skipped.first.line), (2, 3));
    /// # Ok::<(), taskonomy_core::transfers::TransfersError>(())
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<Self, TransfersError> {
        let mut problems = Vec::new();
        let mut rows = Vec::new();
        let mut skipped: Option<Skipped> = None;
        // Spreadsheets save CSV with a byte-order mark, which is invisible in the header error it causes.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty());
        match lines.next() {
            Some((_, header)) if header.replace(' ', "") == HEADER => {}
            Some((line, found)) => problems.push(RowProblem {
                line,
                message: format!("expected the header `{HEADER}`, found `{found}`"),
            }),
            None => problems.push(RowProblem {
                line: 1,
                message: format!("expected the header `{HEADER}`, found an empty file"),
            }),
        }
        for (line, text) in lines {
            match parse_row(text) {
                Ok(mut row) => {
                    row.line = line;
                    if !row.combines_a_baseline() {
                        rows.push(row);
                    } else if let Some(skipped) = &mut skipped {
                        skipped.count += 1;
                    } else {
                        skipped = Some(Skipped {
                            count: 1,
                            first: row,
                        });
                    }
                }
                Err(message) => problems.push(RowProblem { line, message }),
            }
        }
        let mut table = Self::validated(origin, rows, problems)?;
        table.skipped = skipped;
        Ok(table)
    }

    /// Builds a table from rows in memory, with the same checks as [`Transfers::parse`]. Each row's
    /// `line` is set to its 1-based position; `origin` names the table in error messages.
    ///
    /// Unlike a file, rows in memory may not combine a baseline with other sources: our own stages never
    /// measure such a transfer, so one here is a bug to report, not a row to skip.
    pub fn from_rows(origin: &str, rows: Vec<Transfer>) -> Result<Self, TransfersError> {
        let mut problems = Vec::new();
        let rows: Vec<Transfer> = rows
            .into_iter()
            .enumerate()
            .map(|(i, mut row)| {
                row.line = i + 1;
                row.sources.sort();
                if let Err(message) = check_built_row(&row) {
                    problems.push(RowProblem {
                        line: row.line,
                        message,
                    });
                }
                row
            })
            .collect();
        Self::validated(origin, rows, problems)
    }

    /// The table of `rows` if neither they nor the table as a whole have a problem; otherwise every
    /// problem found (`problems`, those of single rows, and [`check_rows`]'s), in line order.
    fn validated(
        origin: &str,
        rows: Vec<Transfer>,
        mut problems: Vec<RowProblem>,
    ) -> Result<Self, TransfersError> {
        problems.extend(check_rows(&rows));
        if problems.is_empty() {
            Ok(Transfers {
                origin: origin.to_owned(),
                rows,
                skipped: None,
            })
        } else {
            problems.sort_by_key(|p| p.line);
            Err(TransfersError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// Where the table came from (a file name, or the name given to [`Transfers::from_rows`]).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The rows, in file order.
    pub fn rows(&self) -> &[Transfer] {
        &self.rows
    }

    /// The rows [`Transfers::parse`] left out because they combine a baseline with other sources, if
    /// any (never for a table built by [`Transfers::from_rows`]).
    pub fn skipped(&self) -> Option<&Skipped> {
        self.skipped.as_ref()
    }

    /// The target names, sorted.
    pub fn targets(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.rows.iter().map(|r| r.target.as_str()).collect();
        set.into_iter().collect()
    }

    /// The source task names (pseudo-sources excluded), sorted.
    pub fn sources(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .rows
            .iter()
            .flat_map(|r| r.sources.iter().map(String::as_str))
            .filter(|s| !is_pseudo_source(s))
            .collect();
        set.into_iter().collect()
    }

    /// Every name in the table, targets and sources (pseudo-sources included), sorted.
    pub fn names(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .rows
            .iter()
            .flat_map(|r| std::iter::once(&r.target).chain(&r.sources))
            .map(String::as_str)
            .collect();
        set.into_iter().collect()
    }

    /// The row for the transfer from `sources` (any order) to `target`, if measured.
    pub fn get<S: AsRef<str>>(&self, sources: &[S], target: &str) -> Option<&Transfer> {
        self.position(sources, target).map(|i| &self.rows[i])
    }

    /// The index in [`Transfers::rows`] of the row `sources → target` (sources in any order): where
    /// values kept beside the table row for row (such as bootstrap intervals) are found.
    pub fn position<S: AsRef<str>>(&self, sources: &[S], target: &str) -> Option<usize> {
        let mut wanted: Vec<&str> = sources.iter().map(AsRef::as_ref).collect();
        wanted.sort_unstable();
        self.rows.iter().position(|r| {
            r.target == target
                && r.sources
                    .iter()
                    .map(String::as_str)
                    .eq(wanted.iter().copied())
        })
    }

    /// The same table with every task renamed by `rename` (names it returns `None` for are kept), for
    /// instance from the paper's aliases to a dictionary's canonical names. Pseudo-sources are never
    /// renamed, nor are the skipped rows, which keep citing the file as written. Fails like
    /// [`Transfers::from_rows`] if two names collapse into one and so duplicate a row.
    pub fn rename(
        &self,
        mut rename: impl FnMut(&str) -> Option<String>,
    ) -> Result<Self, TransfersError> {
        let mut map = |name: &str| -> String {
            if is_pseudo_source(name) {
                name.to_owned()
            } else {
                rename(name).unwrap_or_else(|| name.to_owned())
            }
        };
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let sources: Vec<String> = row.sources.iter().map(|s| map(s)).collect();
                Transfer::new(&sources, &map(&row.target), row.value)
            })
            .collect();
        let mut renamed = Self::from_rows(&self.origin, rows)?;
        renamed.skipped = self.skipped.clone();
        Ok(renamed)
    }

    /// The same table with every task that dictionary `D` knows, by name or alias, renamed to its
    /// canonical name (`rgb2sfnorm` → `surface_normals`); names `D` does not know are kept.
    pub fn with_dictionary_names<D: Dictionary>(&self) -> Result<Self, TransfersError> {
        self.rename(|name| D::from_name(name).map(|task| task.spec().name.to_owned()))
    }

    /// How this table spells the task a user called `name`: `name` itself if the table has it, else
    /// the name or alias of the same task of dictionary `D` that the table uses, else `name` unchanged
    /// (so that whoever looks it up reports it as unknown).
    pub fn spelling_of<D: Dictionary>(&self, name: &str) -> String {
        let names = self.names();
        if names.contains(&name) {
            return name.to_owned();
        }
        D::from_name(name)
            .and_then(|task| task.spec().all_names().find(|n| names.contains(n)))
            .unwrap_or(name)
            .to_owned()
    }

    /// The table as CSV text in the format [`Transfers::parse`] reads (without the skipped rows).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!(
                "{},{},{},{}\n",
                row.sources_label(),
                row.target,
                row.order(),
                row.value
            ));
        }
        out
    }
}

impl fmt::Display for Transfers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} transfers into {} targets)",
            self.origin,
            self.rows.len(),
            self.targets().len()
        )
    }
}

/// One data line → a row, or what was expected.
fn parse_row(text: &str) -> Result<Transfer, String> {
    if text.contains('"') {
        return Err("quoted fields are not supported (task names never contain commas)".to_owned());
    }
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    let [sources, target, order, value] = fields[..] else {
        return Err(format!(
            "expected 4 comma-separated fields `{HEADER}`, found {}",
            fields.len()
        ));
    };
    let sources: Vec<&str> = sources.split('+').map(str::trim).collect();
    let order: usize = order
        .parse()
        .map_err(|_| format!("expected the order (a whole number of sources), found `{order}`"))?;
    if order != sources.len() {
        return Err(format!(
            "the order is {order} but `{}` names {} source(s)",
            sources.join("+"),
            sources.len()
        ));
    }
    let value: f64 = value
        .parse()
        .map_err(|_| format!("expected the value (a number), found `{value}`"))?;
    check_names(&sources, target)?;
    Ok(Transfer::new(&sources, target, value))
}

fn check_names<S: AsRef<str>>(sources: &[S], target: &str) -> Result<(), String> {
    if target.is_empty() {
        return Err("the target name is empty".to_owned());
    }
    if sources.is_empty() || sources.iter().any(|s| s.as_ref().is_empty()) {
        return Err("a source name is empty".to_owned());
    }
    if is_pseudo_source(target) {
        return Err(format!(
            "`{target}` is a baseline, not a task, so cannot be a target"
        ));
    }
    let distinct: BTreeSet<&str> = sources.iter().map(AsRef::as_ref).collect();
    if distinct.len() != sources.len() {
        return Err("a source is named twice in the same transfer".to_owned());
    }
    Ok(())
}

/// A row built in memory: names as in a file, and no baseline among several sources (see
/// [`Transfers::from_rows`] for why that is an error here).
fn check_built_row(row: &Transfer) -> Result<(), String> {
    check_names(&row.sources, &row.target)?;
    if row.combines_a_baseline() {
        return Err(
            "a baseline (self, random, pixels) cannot be combined with other sources".to_owned(),
        );
    }
    Ok(())
}

/// Checks across rows: values, and duplicate `(sources, target)` pairs (citing the first occurrence).
fn check_rows(rows: &[Transfer]) -> Vec<RowProblem> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<(&[String], &str), usize> = BTreeMap::new();
    for row in rows {
        if !row.value.is_finite() || row.value < 0.0 {
            problems.push(RowProblem {
                line: row.line,
                message: format!(
                    "the value of {} → {} must be a finite, non-negative number, found {}",
                    row.sources_label(),
                    row.target,
                    row.value
                ),
            });
        }
        if let Some(first) = seen.insert((&row.sources, &row.target), row.line) {
            problems.push(RowProblem {
                line: row.line,
                message: format!(
                    "duplicate transfer {} → {} (first given on line {first})",
                    row.sources_label(),
                    row.target
                ),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem of a table that must not parse.
    fn problems_of(text: &str) -> Vec<RowProblem> {
        match Transfers::parse(text, "bad.csv") {
            Err(TransfersError::Invalid { origin, problems }) if origin == "bad.csv" => problems,
            other => panic!("expected an invalid-table error naming bad.csv, got {other:?}"),
        }
    }

    #[test]
    fn reads_sources_in_any_order_as_one_set() {
        let table = Transfers::parse(
            "sources, target, order, value\r\nb+a,t,2,0.5\r\n\r\nself,t,1,0.25\r\n",
            "x.csv",
        )
        .unwrap();
        assert_eq!(table.rows()[0].sources, ["a", "b"]);
        assert_eq!(table.rows()[0].line, 2);
        assert_eq!(table.rows()[1].line, 4);
        assert_eq!(table.sources(), ["a", "b"]);
        assert!(table.get(&["a", "b"], "t").is_some());
        assert!(table.get(&["a"], "t").is_none());
    }

    #[test]
    fn reports_every_bad_line_with_what_was_expected() {
        let text = "sources,target,order,value\n\
                    a,t,1,0.5\n\
                    a,t,1\n\
                    a+b,t,1,0.5\n\
                    c,t,one,0.5\n\
                    d,t,1,NaN\n\
                    e,t,1,-0.1\n\
                    a,t,1,0.7\n\
                    f,self,1,0.1\n\
                    g+g,t,2,0.1\n";
        let problems = problems_of(text);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10]);
        assert!(problems[0]
            .message
            .contains("expected 4 comma-separated fields"));
        assert!(problems[1].message.contains("order is 1"));
        assert!(problems[2].message.contains("found `one`"));
        assert!(problems[3].message.contains("finite, non-negative"));
        assert!(problems[5].message.contains("first given on line 2"));
    }

    #[test]
    fn the_message_names_file_and_line() {
        let err = Transfers::parse("sources,target,order,value\na,t,1,x\n", "m.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.csv: 1 invalid row(s):\n  m.csv:2: expected the value (a number), found `x`"
        );
        let err = Transfers::parse("a,t,1,0.5\n", "h.csv").unwrap_err();
        assert!(err.to_string().contains("h.csv:1: expected the header"));
    }

    #[test]
    fn a_byte_order_mark_before_the_header_is_skipped() {
        let table =
            Transfers::parse("\u{feff}sources,target,order,value\na,t,1,0.5\n", "bom.csv").unwrap();
        assert_eq!(table.rows()[0].line, 2);
    }

    #[test]
    fn rows_that_combine_a_baseline_are_skipped_and_counted() {
        // As in the authors' fourth-order tables: a baseline among task sources, in any position.
        let text = "sources,target,order,value\n\
                    a,t,1,0.5\n\
                    a+b+c+random,t,4,0.0582\n\
                    random,t,1,0.01\n\
                    self+a,t,2,0.3\n\
                    a+b,t,2,0.6\n\
                    b+pixels,t,2,0.2\n";
        let table = Transfers::parse(text, "released.csv").unwrap();
        let kept: Vec<String> = table.rows().iter().map(Transfer::sources_label).collect();
        assert_eq!(kept, ["a", "random", "a+b"]);
        let skipped = table.skipped().unwrap();
        assert_eq!(skipped.count, 3);
        assert_eq!(skipped.first.line, 3);
        assert_eq!(skipped.first.sources_label(), "a+b+c+random");
        assert_eq!(skipped.first.target, "t");
        // Renaming keeps the count, citing the file as written; the CSV written back has no such rows.
        let renamed = table.rename(|name| Some(name.to_uppercase())).unwrap();
        assert_eq!(renamed.skipped(), table.skipped());
        let written = Transfers::parse(&table.to_csv(), "written.csv").unwrap();
        assert_eq!(written.rows().len(), 3);
        assert_eq!(written.skipped(), None);
        // A table without such rows skipped nothing.
        let plain = Transfers::parse("sources,target,order,value\na,t,1,0.5\n", "p.csv").unwrap();
        assert_eq!(plain.skipped(), None);
    }

    #[test]
    fn a_malformed_row_is_an_error_even_if_it_combines_a_baseline() {
        let text = "sources,target,order,value\n\
                    a+random,t,3,0.1\n\
                    a+random,t,2,x\n\
                    random+random,t,2,0.1\n\
                    a+random,self,2,0.1\n\
                    a+random,t,2,0.1\n";
        // The last line is well-formed, so skipped; every other is reported.
        let expected = [
            (2, "order is 3"),
            (3, "found `x`"),
            (4, "named twice"),
            (5, "cannot be a target"),
        ];
        let problems = problems_of(text);
        assert_eq!(problems.len(), expected.len(), "{problems:?}");
        for (problem, (line, says)) in problems.iter().zip(expected) {
            assert_eq!(problem.line, line);
            assert!(problem.message.contains(says), "{problem:?}");
        }
    }

    #[test]
    fn rows_built_in_memory_may_not_combine_a_baseline() {
        let err = Transfers::from_rows(
            "memory",
            vec![
                Transfer::new(&["a"], "t", 0.5),
                Transfer::new(&["random", "a"], "t", 0.1),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "memory: 1 invalid row(s):\n  memory:2: a baseline (self, random, pixels) cannot be \
             combined with other sources"
        );
    }

    #[test]
    fn csv_round_trips() {
        let table = Transfers::parse(
            "sources,target,order,value\na+b,t,2,0.125\nself,t,1,1e-5\n",
            "r.csv",
        )
        .unwrap();
        assert_eq!(Transfers::parse(&table.to_csv(), "r.csv").unwrap(), table);
    }

    #[test]
    fn renaming_keeps_pseudo_sources_and_catches_collisions() {
        let table = Transfers::parse(
            "sources,target,order,value\nrgb2sfnorm,rgb2depth,1,0.5\nself,rgb2depth,1,0.5\n",
            "n.csv",
        )
        .unwrap();
        let renamed = table
            .rename(|name| match name {
                "rgb2sfnorm" => Some("normals".to_owned()),
                "rgb2depth" => Some("depth".to_owned()),
                "self" => Some("never".to_owned()),
                _ => None,
            })
            .unwrap();
        assert_eq!(renamed.names(), ["depth", "normals", "self"]);
        let collide = Transfers::parse(
            "sources,target,order,value\na,t,1,0.5\nb,t,1,0.5\n",
            "c.csv",
        )
        .unwrap()
        .rename(|_| Some("same".to_owned()));
        assert!(collide.is_err());
    }

    mod dictionary_names {
        use super::*;

        use taskonomy_macros::{task, task_dictionary};

        #[task(output = Dense<1>, loss = L1, encoding = Npy, aliases = ["rgb2depth"])]
        struct Depth;

        #[task(output = Dense<3>, loss = Cosine, encoding = Npy, aliases = ["rgb2sfnorm"])]
        struct Normals;

        task_dictionary! {
            Tiny { sources: [Depth], targets: [Normals] }
        }

        fn table() -> Transfers {
            Transfers::from_rows(
                "t",
                vec![
                    Transfer::new(&["rgb2depth"], "rgb2sfnorm", 0.4),
                    Transfer::new(&["self"], "rgb2sfnorm", 0.5),
                    Transfer::new(&["mystery"], "rgb2sfnorm", 0.1),
                ],
            )
            .unwrap()
        }

        #[test]
        fn aliases_become_canonical_names_and_unknown_names_stay() {
            let renamed = table().with_dictionary_names::<Tiny>().unwrap();
            assert_eq!(renamed.names(), ["depth", "mystery", "normals", "self"]);
        }

        #[test]
        fn a_users_spelling_is_found_in_the_tables() {
            let table = table();
            assert_eq!(table.spelling_of::<Tiny>("normals"), "rgb2sfnorm");
            assert_eq!(table.spelling_of::<Tiny>("rgb2depth"), "rgb2depth");
            assert_eq!(table.spelling_of::<Tiny>("mystery"), "mystery");
            assert_eq!(table.spelling_of::<Tiny>("nothing"), "nothing");
        }
    }
}
