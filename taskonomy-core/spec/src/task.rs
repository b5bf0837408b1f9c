//! The plain record a declared task compiles down to.

use crate::{Encoding, Labelling, LossKind, OutputShape, Sampling};

/// The most images a task may take at once (the paper's egomotion takes a triplet).
pub const MAX_VIEWS: usize = 3;

/// The sizes a task decoder asks for, relative to the run's architecture so that a preset still scales
/// every network together. A decoder type declares its shape; a task network is built with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecoderShape {
    /// Mixer blocks between the decoder's input and output layers; `None` keeps the preset's depth.
    pub blocks: Option<usize>,
    /// Channels per token, as a multiple of the preset's decoder width.
    pub width_factor: usize,
}

impl DecoderShape {
    /// The preset's decoder, unchanged: the shape of the standard decoders.
    pub const PRESET: DecoderShape = DecoderShape {
        blocks: None,
        width_factor: 1,
    };

    /// Mixer blocks, given the preset's decoder depth.
    pub fn blocks(self, preset_depth: usize) -> usize {
        self.blocks.unwrap_or(preset_depth)
    }

    /// Channels per token, given the preset's decoder width.
    pub fn width(self, preset_width: usize) -> usize {
        preset_width * self.width_factor
    }
}

/// Everything the library knows about a task, as plain `const` data.
///
/// `#[task(...)]` writes one of these as `<T as Task>::SPEC`; a dictionary holds a table of them. Nothing
/// here is computed at run time, so the table can live in read-only memory and be checked by `const`
/// evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaskSpec {
    /// The task's canonical name, snake_case (`surface_normals`).
    pub name: &'static str,
    /// The Rust type that declares it (`Normals`).
    pub type_name: &'static str,
    /// Other names the task is known by, such as the names in the paper's released data (`rgb2sfnorm`).
    pub aliases: &'static [&'static str],
    /// The folder name of the task's labels in the Taskonomy dataset layout (`normal`).
    pub domain: &'static str,
    /// What the task predicts.
    pub output: OutputShape,
    /// The loss it is trained with.
    pub loss: LossKind,
    /// How many images the task looks at: 1, or 2–3 for pose, matching and egomotion.
    pub views: usize,
    /// Which views a multi-view task's samples pair up ([`Sampling::Fixated`] for single-view tasks).
    pub sampling: Sampling,
    /// Where the task's labels come from.
    pub labelling: Labelling,
    /// How the task's domain folder stores its labels, when they are files ([`Labelling::is_stored`]).
    pub encoding: Option<Encoding>,
    /// ℓ, the cost of collecting the task's labels; the planner's budget γ bounds the sum over chosen
    /// sources.
    pub label_cost: f64,
    /// r, how much solving the task well matters; the planner maximises Σ r·p.
    pub importance: f64,
    /// The name of the decoder type that maps representations to this task's output.
    pub decoder: &'static str,
    /// The sizes that decoder asks for.
    pub decoder_shape: DecoderShape,
    /// The doc comment of the declaration (whole text, lines joined with `\n`).
    pub doc: &'static str,
}

impl TaskSpec {
    /// Whether the spec is a declared task's, not the stand-in `task_dictionary!` gives an entry that
    /// names no declared type (named [`UNDECLARED`]).
    pub const fn is_declared(&self) -> bool {
        !str_eq(self.name, UNDECLARED)
    }

    /// The first line of the doc comment, for one-line listings.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().next().unwrap_or("").trim()
    }

    /// Whether `name` is the task's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }

    /// The task's name followed by its aliases.
    pub fn all_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// The first name (canonical name or alias) that `a` and `b` share, if any.
///
/// This is a `const fn` so that a dictionary can reject two tasks answering to the same name while it is
/// being compiled, where the names are known but no code has run yet.
pub const fn first_shared_name(a: &TaskSpec, b: &TaskSpec) -> Option<&'static str> {
    let mut i = 0;
    while i <= a.aliases.len() {
        let name_a = if i == 0 { a.name } else { a.aliases[i - 1] };
        let mut j = 0;
        while j <= b.aliases.len() {
            let name_b = if j == 0 { b.name } else { b.aliases[j - 1] };
            if str_eq(name_a, name_b) {
                return Some(name_a);
            }
            j += 1;
        }
        i += 1;
    }
    None
}

/// Fails compilation of the `const` that calls it when `earlier` and `later` share a name or alias, with a
/// message naming both task types and the shared name.
///
/// `task_dictionary!` calls this for every pair of its tasks, with the call's span on the later task, so
/// the error points at the entry that repeats a name.
pub const fn assert_distinct_names(earlier: &TaskSpec, later: &TaskSpec) {
    if let Some(name) = first_shared_name(earlier, later) {
        let mut buffer = [0u8; 512];
        let message = concat(
            &mut buffer,
            &[
                "`",
                later.type_name,
                "` answers to `",
                name,
                "`, which `",
                earlier.type_name,
                "` already answers to; each name and alias may belong to one task of a dictionary",
            ],
            "two tasks of the dictionary answer to the same name",
        );
        panic!("{}", message);
    }
}

/// Fails compilation of the `const` that calls it when `earlier` and `later` both render their labels into
/// the same domain folder, which would hold one of them only.
///
/// `task_dictionary!` calls this for every pair of its tasks, with the call's span on the later task.
pub const fn assert_distinct_rendered_domains(earlier: &TaskSpec, later: &TaskSpec) {
    let both_rendered = matches!(earlier.labelling, Labelling::Rendered)
        && matches!(later.labelling, Labelling::Rendered);
    if both_rendered && str_eq(earlier.domain, later.domain) {
        let mut buffer = [0u8; 512];
        let message = concat(
            &mut buffer,
            &[
                "`",
                later.type_name,
                "` renders its labels into the domain folder `",
                later.domain,
                "`, which `",
                earlier.type_name,
                "` already renders into; give one of them another `domain`",
            ],
            "two tasks of the dictionary render their labels into the same domain folder",
        );
        panic!("{}", message);
    }
}

/// The name of the stand-in spec `task_dictionary!` gives an entry that names no declared type (no task's
/// name is empty: names are snake_case), so that the dictionary can report it once, as undeclared; see
/// [`TaskSpec::is_declared`].
pub const UNDECLARED: &str = "";

/// Fails compilation of the `const` that calls it when `spec` is the stand-in of an entry of dictionary
/// `dictionary` written `written` that names no declared type; `hint` ends the message (similar names, or
/// nothing).
pub const fn assert_declared(spec: &TaskSpec, written: &str, dictionary: &str, hint: &str) {
    if !spec.is_declared() {
        let mut buffer = [0u8; 512];
        let message = concat(
            &mut buffer,
            &[
                "`",
                written,
                "` is not a declared task: no type of that name is declared or imported in the module of `",
                dictionary,
                "` (declare it with `#[task(...)]` on a struct at module level, or import it)",
                hint,
            ],
            "an entry of the dictionary is not a declared task",
        );
        panic!("{}", message);
    }
}

/// Joins `parts` into `buffer` (truncating what does not fit), for panic messages in `const` contexts,
/// where `format!` is not available; `fallback` is the message when truncation split a character.
const fn concat<'a>(buffer: &'a mut [u8], parts: &[&str], fallback: &'a str) -> &'a str {
    let mut len = 0;
    let mut part = 0;
    while part < parts.len() {
        let bytes = parts[part].as_bytes();
        let mut i = 0;
        while i < bytes.len() && len < buffer.len() {
            buffer[len] = bytes[i];
            len += 1;
            i += 1;
        }
        part += 1;
    }
    match core::str::from_utf8(buffer.split_at(len).0) {
        Ok(message) => message,
        Err(_) => fallback,
    }
}

/// String equality usable in `const` contexts.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutputKind;

    const fn spec(name: &'static str, aliases: &'static [&'static str]) -> TaskSpec {
        TaskSpec {
            name,
            type_name: "T",
            aliases,
            domain: name,
            output: OutputShape::new(OutputKind::Dense, 1),
            loss: LossKind::L1,
            views: 1,
            sampling: Sampling::Fixated,
            labelling: Labelling::Rendered,
            encoding: Some(Encoding::DEFAULT),
            label_cost: 1.0,
            importance: 1.0,
            decoder: "PixelDecoder",
            decoder_shape: DecoderShape::PRESET,
            doc: "First line.\nMore.",
        }
    }

    #[test]
    fn decoder_shapes_scale_with_the_preset() {
        assert_eq!(DecoderShape::PRESET.blocks(2), 2);
        assert_eq!(DecoderShape::PRESET.width(64), 64);
        let wide = DecoderShape {
            blocks: Some(3),
            width_factor: 2,
        };
        assert_eq!((wide.blocks(1), wide.width(64)), (3, 128));
    }

    #[test]
    fn shared_names_are_found_among_names_and_aliases() {
        let depth = spec("depth", &["rgb2depth"]);
        let mist = spec("distance", &["rgb2mist"]);
        let depth_again = spec("z_depth", &["rgb2depth"]);
        assert_eq!(first_shared_name(&depth, &mist), None);
        assert_eq!(first_shared_name(&depth, &depth_again), Some("rgb2depth"));
        assert_eq!(
            first_shared_name(&depth, &spec("depth", &[])),
            Some("depth")
        );
        assert_eq!(
            first_shared_name(&spec("a", &["depth"]), &depth),
            Some("depth")
        );
    }

    #[test]
    fn shared_names_are_checked_in_const_context() {
        const CLASH: Option<&str> = first_shared_name(&spec("a", &["x"]), &spec("b", &["x"]));
        assert_eq!(CLASH, Some("x"));
    }

    #[test]
    fn distinct_names_pass_the_const_check() {
        const _: () = assert_distinct_names(&spec("depth", &["rgb2depth"]), &spec("mist", &[]));
    }

    #[test]
    #[should_panic(expected = "`T` answers to `rgb2depth`, which `T` already answers to")]
    fn shared_names_fail_the_check_with_both_types() {
        assert_distinct_names(&spec("depth", &["rgb2depth"]), &spec("z", &["rgb2depth"]));
    }

    #[test]
    fn rendered_tasks_may_not_share_a_domain() {
        const _: () = assert_distinct_rendered_domains(&spec("depth", &[]), &spec("mist", &[]));
        let stored = TaskSpec {
            labelling: Labelling::Stored,
            ..spec("depth_again", &[])
        };
        let same_domain = TaskSpec {
            domain: "depth",
            ..stored
        };
        assert_distinct_rendered_domains(&spec("depth", &[]), &same_domain);
    }

    #[test]
    #[should_panic(
        expected = "renders its labels into the domain folder `depth`, which `T` already"
    )]
    fn two_renderings_of_one_domain_fail_the_check() {
        let other = TaskSpec {
            domain: "depth",
            ..spec("z", &[])
        };
        assert_distinct_rendered_domains(&spec("depth", &[]), &other);
    }

    #[test]
    fn stand_ins_are_not_declared() {
        const STAND_IN: TaskSpec = TaskSpec {
            name: UNDECLARED,
            ..spec("x", &[])
        };
        const DECLARED: [bool; 2] = [spec("depth", &[]).is_declared(), STAND_IN.is_declared()];
        assert_eq!(DECLARED, [true, false]);
    }

    #[test]
    #[should_panic(
        expected = "`Normals` is not a declared task: no type of that name is declared or \
                               imported in the module of `Study` (declare it with `#[task(...)]` on a \
                               struct at module level, or import it); did you mean `SurfaceNormals`?"
    )]
    fn undeclared_entries_are_named_with_a_hint() {
        assert_declared(&spec("depth", &[]), "Depth", "Study", "");
        let stand_in = TaskSpec {
            name: UNDECLARED,
            ..spec("x", &[])
        };
        assert_declared(
            &stand_in,
            "Normals",
            "Study",
            "; did you mean `SurfaceNormals`?",
        );
    }

    #[test]
    fn concat_truncates_instead_of_overflowing() {
        let mut buffer = [0u8; 8];
        assert_eq!(
            concat(&mut buffer, &["abcd", "efgh", "ijkl"], "fallback"),
            "abcdefgh"
        );
        // `é` is two bytes; the eighth byte is the first of them.
        assert_eq!(
            concat(&mut buffer, &["abcdefg", "é"], "fallback"),
            "fallback"
        );
    }

    #[test]
    fn summary_and_names() {
        let depth = spec("depth", &["rgb2depth"]);
        assert_eq!(depth.summary(), "First line.");
        assert!(depth.answers_to("rgb2depth"));
        assert!(!depth.answers_to("rgb2mist"));
        assert_eq!(
            depth.all_names().collect::<Vec<_>>(),
            ["depth", "rgb2depth"]
        );
    }
}
