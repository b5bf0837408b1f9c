//! Judging parsed `#[task(...)]` arguments against the rules of `taskonomy-spec`, collecting every
//! mistake with the span of the token that caused it.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{GenericArgument, Ident, PathArguments, Type};
use taskonomy_spec::{
    closest_match, is_snake_case, snake_case_from_type_name, LabelContext, LossKind, OutputKind,
    OutputShape, MAX_VIEWS,
};

use super::labels::CheckedLabels;
use super::parse::TaskArgs;
use crate::errors::Errors;

/// A declaration that passed every check: the values the generated code will carry.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct CheckedTask {
    pub output: OutputShape,
    /// The output kind's identifier as the user wrote it (for spans in generated code).
    pub output_ident: Ident,
    /// The loss's identifier as the user wrote it, already known to name a `LossKind`.
    pub loss_ident: Ident,
    pub name: String,
    pub aliases: Vec<String>,
    pub domain: String,
    pub views: usize,
    pub label_cost: f64,
    pub importance: f64,
    pub decoder: Option<Type>,
    pub labels: CheckedLabels,
}

/// Checks `args` for the task type `ident`. Returns `None` if any check failed; every failure is in
/// `errors`.
pub(crate) fn check(
    args: TaskArgs,
    ident: &Ident,
    attribute_span: Span,
    errors: &mut Errors,
) -> Option<CheckedTask> {
    let output = match &args.output {
        Some(ty) => check_output(ty, errors),
        None => {
            errors.at(
                attribute_span,
                "a task needs an output: add `output = Kind<N>` with Kind one of \
                 Dense, PixelClasses, PixelEmbedding, Classes, MultiLabel, Vector",
            );
            None
        }
    };
    let loss = match &args.loss {
        Some(path) => check_loss(path, errors),
        None => {
            errors.at(
                attribute_span,
                "a task needs a loss: add `loss = ...` (L1, L2, Huber, CrossEntropy, \
                 BinaryCrossEntropy, Cosine or Contrastive)",
            );
            None
        }
    };
    let fits = match (&output, &loss) {
        (Some((shape, _)), Some((loss, loss_ident))) => match shape.admits(*loss) {
            Ok(()) => true,
            Err(mismatch) => {
                errors.spanned(loss_ident, mismatch);
                false
            }
        },
        _ => false,
    };

    let name = check_name(args.name.as_ref(), ident, errors);
    let aliases = check_aliases(&args.aliases, name.as_deref(), errors);
    let domain = match &args.domain {
        Some(domain) => check_snake_case(domain, "domain", errors),
        None => name.clone(),
    };
    let views = check_views(args.views.as_ref(), errors);
    let label_cost = check_positive(args.label_cost.as_ref(), "label_cost", errors);
    let importance = check_positive(args.importance.as_ref(), "importance", errors);
    // What is wrong here was reported; the label rules that need it are skipped.
    let context = LabelContext {
        shape: output.as_ref().map(|(shape, _)| *shape),
        views,
        domain: domain.as_deref(),
    };
    let labels = super::labels::check(&args, &context, attribute_span, errors);

    let ((output, output_ident), (_, loss_ident)) = (output?, loss?);
    if !fits {
        return None;
    }
    Some(CheckedTask {
        output,
        output_ident,
        loss_ident,
        name: name?,
        aliases: aliases?,
        domain: domain?,
        views: views?,
        label_cost: label_cost?,
        importance: importance?,
        decoder: args.decoder,
        labels: labels?,
    })
}

/// `Kind<N>`, where `Kind` may be written with a path (`spec::Dense<3>`); only its last segment counts.
fn check_output(ty: &Type, errors: &mut Errors) -> Option<(OutputShape, Ident)> {
    let kinds = OutputKind::ALL.map(OutputKind::type_name);
    let expected = || format!("expected `Kind<N>` with Kind one of {}", kinds.join(", "));
    let Type::Path(path) = ty else {
        errors.spanned(ty, expected());
        return None;
    };
    let Some(segment) = path.path.segments.last().filter(|_| path.qself.is_none()) else {
        errors.spanned(ty, expected());
        return None;
    };
    let written = segment.ident.to_string();
    let Some(kind) = OutputKind::from_type_name(&written) else {
        let hint = match closest_match(&written, kinds) {
            Some(known) => format!("did you mean `{known}`?"),
            None => expected(),
        };
        errors.spanned(
            &segment.ident,
            format!("unknown output kind `{written}`; {hint}"),
        );
        return None;
    };
    let size = match &segment.arguments {
        PathArguments::AngleBracketed(generics) if generics.args.len() == 1 => {
            match &generics.args[0] {
                GenericArgument::Const(syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(int),
                    ..
                })) => int.base10_parse::<usize>().ok(),
                _ => None,
            }
        }
        _ => None,
    };
    let Some(size) = size else {
        errors.spanned(
            segment,
            format!(
                "`{kind}` needs its number of {} as a literal, e.g. `{kind}<{}>`",
                kind.size_meaning(),
                kind.min_size().max(3)
            ),
        );
        return None;
    };
    let shape = OutputShape::new(kind, size);
    if let Err(too_small) = shape.validate() {
        errors.spanned(&segment.arguments, too_small);
        return None;
    }
    Some((shape, segment.ident.clone()))
}

fn check_loss(path: &syn::Path, errors: &mut Errors) -> Option<(LossKind, Ident)> {
    let segment = path.segments.last()?;
    let written = segment.ident.to_string();
    match LossKind::from_type_name(&written) {
        Some(loss) if segment.arguments.is_none() => Some((loss, segment.ident.clone())),
        Some(_) => {
            errors.spanned(&segment.arguments, "a loss takes no parameters");
            None
        }
        None => {
            let names = LossKind::ALL.map(LossKind::type_name);
            let hint = match closest_match(&written, names) {
                Some(known) => format!("did you mean `{known}`?"),
                None => format!("expected one of {}", names.join(", ")),
            };
            errors.spanned(path, format!("unknown loss `{written}`; {hint}"));
            None
        }
    }
}

/// The explicit name, or the type name in snake_case.
fn check_name(written: Option<&syn::LitStr>, ident: &Ident, errors: &mut Errors) -> Option<String> {
    match written {
        Some(name) => check_snake_case(name, "name", errors),
        None => {
            let type_name = ident.to_string();
            let derived = snake_case_from_type_name(type_name.trim_start_matches("r#"));
            match is_snake_case(&derived) {
                Ok(()) => Some(derived),
                Err(rule) => {
                    errors.spanned(
                        ident,
                        format!(
                            "the task name derived from `{ident}` is `{derived}`, which is not \
                             snake_case: {rule}; give one with `name = \"...\"`"
                        ),
                    );
                    None
                }
            }
        }
    }
}

fn check_snake_case(literal: &syn::LitStr, what: &str, errors: &mut Errors) -> Option<String> {
    let value = literal.value();
    match is_snake_case(&value) {
        Ok(()) => Some(value),
        Err(rule) => {
            errors.spanned(
                literal,
                format!("task {what} `{value}` is not snake_case: {rule}"),
            );
            None
        }
    }
}

fn check_aliases(
    aliases: &[syn::LitStr],
    name: Option<&str>,
    errors: &mut Errors,
) -> Option<Vec<String>> {
    let mut checked = Vec::with_capacity(aliases.len());
    let mut ok = true;
    for alias in aliases {
        let Some(value) = check_snake_case(alias, "alias", errors) else {
            ok = false;
            continue;
        };
        if Some(value.as_str()) == name {
            errors.spanned(
                alias,
                format!("alias `{value}` repeats the task's name; remove it"),
            );
            ok = false;
        } else if checked.contains(&value) {
            errors.spanned(alias, format!("alias `{value}` is listed twice"));
            ok = false;
        } else {
            checked.push(value);
        }
    }
    ok.then_some(checked)
}

fn check_views(views: Option<&syn::LitInt>, errors: &mut Errors) -> Option<usize> {
    let Some(views) = views else {
        return Some(1);
    };
    match views.base10_parse::<usize>() {
        Ok(n) if (1..=MAX_VIEWS).contains(&n) => Some(n),
        _ => {
            errors.spanned(
                views,
                format!("a task looks at 1 to {MAX_VIEWS} images (`views = 1`, 2 or 3)"),
            );
            None
        }
    }
}

fn check_positive(
    number: Option<&super::parse::Number>,
    key: &str,
    errors: &mut Errors,
) -> Option<f64> {
    let Some(number) = number else {
        return Some(1.0);
    };
    if number.value > 0.0 && number.value.is_finite() {
        Some(number.value)
    } else {
        let written = number
            .written
            .to_token_stream()
            .to_string()
            .replace(' ', "");
        errors.spanned(
            &number.written,
            format!("`{key}` must be positive, found {written}"),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::parse::parse_args;
    use quote::{format_ident, quote};

    fn check_tokens(
        tokens: proc_macro2::TokenStream,
        type_name: &str,
    ) -> Result<CheckedTask, Vec<String>> {
        let mut errors = Errors::new();
        let args = parse_args(tokens, &mut errors).expect("syntax");
        let checked = check(
            args,
            &format_ident!("{}", type_name),
            Span::call_site(),
            &mut errors,
        );
        match errors.finish() {
            Ok(()) => Ok(checked.expect("no errors but no task")),
            Err(e) => {
                assert!(checked.is_none(), "errors but a task");
                Err(e.into_iter().map(|e| e.to_string()).collect())
            }
        }
    }

    #[test]
    fn a_full_declaration_is_accepted_with_defaults_filled_in() {
        let task = check_tokens(
            quote!(output = Dense<1>, loss = L1, label = depth, aliases = ["rgb2depth"]),
            "ZBufferDepth",
        )
        .unwrap();
        assert_eq!(task.output, OutputShape::new(OutputKind::Dense, 1));
        assert_eq!(task.loss_ident, "L1");
        assert_eq!(task.name, "z_buffer_depth");
        assert_eq!(task.domain, "z_buffer_depth");
        assert_eq!(task.aliases, ["rgb2depth"]);
        assert_eq!(
            (task.views, task.label_cost, task.importance),
            (1, 1.0, 1.0)
        );
    }

    #[test]
    fn paths_to_kinds_and_losses_are_accepted() {
        let task = check_tokens(
            quote!(
                output = taskonomy::spec::Classes<8>, loss = spec::CrossEntropy, views = 2,
                point_info = scene_of,
            ),
            "SceneClass",
        )
        .unwrap();
        assert_eq!(task.output, OutputShape::new(OutputKind::Classes, 8));
        assert_eq!(task.views, 2);
    }

    #[test]
    fn a_loss_that_does_not_fit_names_the_ones_that_do() {
        let errors =
            check_tokens(quote!(output = Classes<8>, loss = L1, label = f), "Scene").unwrap_err();
        assert_eq!(
            errors,
            ["loss `L1` does not fit output `Classes<8>`; CrossEntropy fits `Classes` outputs"]
        );
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let errors = check_tokens(
            quote!(
                output = Dense<0>, loss = Hubr, name = "Depth", views = 4, importance = 0,
                label = depth,
            ),
            "Depth",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "`Dense<0>` has too few channels: Dense needs at least 1",
                "unknown loss `Hubr`; did you mean `Huber`?",
                "task name `Depth` is not snake_case: it must start with a lowercase letter",
                "a task looks at 1 to 3 images (`views = 1`, 2 or 3)",
                "`importance` must be positive, found 0",
            ]
        );
    }

    #[test]
    fn missing_output_and_loss_are_named() {
        let errors = check_tokens(quote!(name = "x", label = x), "X").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].starts_with("a task needs an output"));
        assert!(errors[1].starts_with("a task needs a loss"));
    }

    #[test]
    fn output_kinds_are_suggested_and_sizes_required() {
        let errors = check_tokens(quote!(output = Dens<3>, loss = L1, label = f), "X").unwrap_err();
        assert_eq!(
            errors,
            ["unknown output kind `Dens`; did you mean `Dense`?"]
        );
        // Labels are judged without the output: their absence is a mistake of its own.
        let errors = check_tokens(quote!(output = Dens<3>, loss = L1), "X").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[1].starts_with("a task needs labels"), "{errors:?}");
        let errors = check_tokens(quote!(output = Dense, loss = L1, label = f), "X").unwrap_err();
        assert_eq!(
            errors,
            ["`Dense` needs its number of channels as a literal, e.g. `Dense<3>`"]
        );
        let errors = check_tokens(
            quote!(output = Classes<1>, loss = CrossEntropy, from_rgb = f),
            "X",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            ["`Classes<1>` has too few classes: Classes needs at least 2"]
        );
    }

    #[test]
    fn aliases_must_be_new_names() {
        let errors = check_tokens(
            quote!(
                output = Dense<1>, loss = L1, label = depth, aliases = ["depth", "z", "z", "Z"],
            ),
            "Depth",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "alias `depth` repeats the task's name; remove it",
                "alias `z` is listed twice",
                "task alias `Z` is not snake_case: it must start with a lowercase letter",
            ]
        );
    }

    #[test]
    fn labels_are_checked_with_the_output_and_views() {
        let task = check_tokens(
            quote!(output = Dense<1>, loss = L1, domain = "depth_zbuffer",
                   encoding = Png16(scale = 1.0 / 512.0)),
            "Depth",
        )
        .unwrap();
        assert_eq!(
            task.labels.source.labelling(),
            taskonomy_spec::Labelling::Stored
        );
        let errors =
            check_tokens(quote!(output = Classes<8>, loss = CrossEntropy), "Scene").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("a task needs labels"), "{errors:?}");
        let errors = check_tokens(
            quote!(output = Classes<8>, loss = CrossEntropy, encoding = Png8),
            "Scene",
        )
        .unwrap_err();
        assert!(
            errors[0].starts_with("a PNG stores per-pixel labels"),
            "{errors:?}"
        );
        let errors = check_tokens(
            quote!(output = Dense<3>, loss = L1, label = f, domain = "rgb"),
            "Copy",
        )
        .unwrap_err();
        assert!(
            errors[0].contains("`rgb` holds every view's image"),
            "{errors:?}"
        );
        let errors = check_tokens(
            quote!(output = Dense<1>, loss = L1, views = 2, point_info = f),
            "Pair",
        )
        .unwrap_err();
        assert!(
            errors[0].starts_with("point-info labels are one per image"),
            "{errors:?}"
        );
        let errors = check_tokens(
            quote!(output = Vector<6>, loss = L2, views = 2, point_info = f, sampling = Fixatd),
            "Pose",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            ["unknown sampling `Fixatd`; did you mean `Fixated`?"]
        );
    }

    #[test]
    fn an_unreadable_encoding_hides_no_other_mistake() {
        let errors = check_tokens(
            quote!(output = Dense<1>, loss = L1, views = 2, label = f, encoding = Pgn16,
                   sampling = Matchng),
            "Pair",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "unknown encoding `Pgn16`; did you mean `Png16`?",
                "unknown sampling `Matchng`; did you mean `Matching`?",
                "a label function sees one rendered view, but the task has `views = 2`; compute \
                 labels of several views from their cameras with `point_info = f`",
            ]
        );
    }

    #[test]
    fn invalid_views_are_not_judged_as_one() {
        let errors = check_tokens(
            quote!(output = Vector<6>, loss = L2, views = 4, point_info = f, sampling = NonFixated),
            "Pose",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            ["a task looks at 1 to 3 images (`views = 1`, 2 or 3)"]
        );
    }

    #[test]
    fn cosine_on_one_channel_is_rejected() {
        let errors =
            check_tokens(quote!(output = Dense<1>, loss = Cosine, label = f), "X").unwrap_err();
        assert_eq!(
            errors,
            ["loss `Cosine` compares directions, but `Dense<1>` has a single channel; use L1, L2 or Huber"]
        );
    }
}
