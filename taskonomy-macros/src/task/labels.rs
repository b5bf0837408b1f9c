//! Judging the label keys of `#[task(...)]`: the encoding as written (`Png16(scale = 1.0 / 512.0)`), the
//! sampling, and which keys together make sense (the rules are `taskonomy_spec::check_labels`).

use proc_macro2::Span;
use quote::ToTokens;
use syn::{BinOp, Expr, ExprLit, Lit, UnOp};
use taskonomy_spec::{
    check_labels, closest_match, Encoding, LabelContext, LabelDeclaration, LabelRule, Labelling,
    Sampling, Written,
};

use super::parse::TaskArgs;
use crate::errors::Errors;

/// The label part of a declaration that passed every check.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct CheckedLabels {
    pub source: Source,
    pub sampling: Sampling,
}

/// Where a checked task's labels come from: the function the declaration names (as written) and, for
/// labels that are files, their encoding.
#[cfg_attr(test, derive(Debug))]
pub(crate) enum Source {
    /// `label = function`, its labels stored with `encoding`.
    Rendered {
        function: syn::Path,
        encoding: Encoding,
    },
    /// Files of the task's domain folder, read with `encoding`.
    Stored { encoding: Encoding },
    /// `from_rgb = function`.
    FromImage { function: syn::Path },
    /// `point_info = function`.
    FromPointInfo { function: syn::Path },
}

impl Source {
    pub(crate) fn labelling(&self) -> Labelling {
        match self {
            Source::Rendered { .. } => Labelling::Rendered,
            Source::Stored { .. } => Labelling::Stored,
            Source::FromImage { .. } => Labelling::FromImage,
            Source::FromPointInfo { .. } => Labelling::FromPointInfo,
        }
    }

    /// The encoding of label files, for the spec.
    pub(crate) fn encoding(&self) -> Option<Encoding> {
        match self {
            Source::Rendered { encoding, .. } | Source::Stored { encoding } => Some(*encoding),
            Source::FromImage { .. } | Source::FromPointInfo { .. } => None,
        }
    }
}

/// The encodings as they are written, for messages.
const ENCODINGS: [&str; 4] = ["Png8", "Png16", "Npy", "PointInfo"];

/// Checks the label keys of `args` against the rest of the declaration, as far as it is valid (`task`).
/// `attribute` is the span of the whole attribute. Every mistake is recorded, also when an encoding or
/// sampling could not be read; only rules that need the unreadable value are skipped.
pub(crate) fn check(
    args: &TaskArgs,
    task: &LabelContext<'_>,
    attribute: Span,
    errors: &mut Errors,
) -> Option<CheckedLabels> {
    let encoding = match &args.encoding {
        Some(written) => {
            parse_encoding(written, errors).map_or(Written::Unreadable, Written::Value)
        }
        None => Written::Absent,
    };
    let sampling = match &args.sampling {
        Some(path) => parse_sampling(path, errors).map_or(Written::Unreadable, Written::Value),
        None => Written::Absent,
    };
    let declared = LabelDeclaration {
        label: args.label.is_some(),
        from_rgb: args.from_rgb.is_some(),
        point_info: args.point_info.is_some(),
        encoding,
        sampling,
    };
    let checked = check_labels(&declared, task);
    if let Err(broken) = &checked {
        for rule in broken {
            report(rule, args, attribute, errors);
        }
    }
    let (labelling, encoding) = checked.ok()?;
    // An unreadable key was reported where it was read.
    let sampling = match declared.sampling {
        Written::Absent => Sampling::Fixated,
        Written::Value(sampling) => sampling,
        Written::Unreadable => return None,
    };
    if declared.encoding == Written::Unreadable {
        return None;
    }
    // `check_labels` takes the labelling from the key that gives it, and gives an encoding to labels that
    // are files, only them.
    let source = match (labelling, encoding, args) {
        (Labelling::Rendered, Some(encoding), TaskArgs { label: Some(f), .. }) => Source::Rendered {
            function: f.clone(),
            encoding,
        },
        (Labelling::Stored, Some(encoding), _) => Source::Stored { encoding },
        (Labelling::FromImage, None, TaskArgs { from_rgb: Some(f), .. }) => Source::FromImage {
            function: f.clone(),
        },
        (Labelling::FromPointInfo, None, TaskArgs { point_info: Some(f), .. }) => {
            Source::FromPointInfo {
                function: f.clone(),
            }
        }
        (labelling, encoding, _) => unreachable!(
            "check_labels gave {labelling:?} labels and encoding {encoding:?}, which the keys do not"
        ),
    };
    Some(CheckedLabels { source, sampling })
}

/// Reports `rule` at the key it concerns. A task without labels that names its `domain` folder is a task
/// read from a dataset that does not say how: that is said at the folder's name.
fn report(rule: &LabelRule, args: &TaskArgs, attribute: Span, errors: &mut Errors) {
    if let (LabelRule::NoLabels, Some(domain)) = (rule, &args.domain) {
        errors.spanned(
            domain,
            format!(
                "the labels in the `{}` folder need an encoding: add `encoding = Png8` or `Png16` \
                 (with `(scale = .., offset = ..)` when the values are scaled), `Npy`, or \
                 `PointInfo(\"field\")`; or compute the labels with `label = f`, `from_rgb = f` or \
                 `point_info = f`",
                domain.value()
            ),
        );
        return;
    }
    let tokens = match rule.key() {
        Some("label") => args.label.as_ref().map(ToTokens::to_token_stream),
        Some("from_rgb") => args.from_rgb.as_ref().map(ToTokens::to_token_stream),
        Some("point_info") => args.point_info.as_ref().map(ToTokens::to_token_stream),
        Some("encoding") => args.encoding.as_ref().map(ToTokens::to_token_stream),
        Some("sampling") => args.sampling.as_ref().map(ToTokens::to_token_stream),
        _ => None,
    };
    match tokens {
        Some(tokens) => errors.spanned(tokens, rule),
        None => errors.at(attribute, rule),
    }
}

fn parse_sampling(path: &syn::Path, errors: &mut Errors) -> Option<Sampling> {
    let written = path.segments.last()?.ident.to_string();
    let found = Sampling::from_type_name(&written);
    if found.is_none() {
        let names = Sampling::ALL.map(Sampling::type_name);
        let hint = match closest_match(&written, names) {
            Some(known) => format!("did you mean `{known}`?"),
            None => format!("expected one of {}", names.join(", ")),
        };
        errors.spanned(path, format!("unknown sampling `{written}`; {hint}"));
    }
    found
}

/// `Png8`, `Png16(scale = 1.0 / 512.0, offset = 0.0)`, `Npy`, `Npy(first = 100)`,
/// `PointInfo("field")`.
pub(crate) fn parse_encoding(written: &Expr, errors: &mut Errors) -> Option<Encoding> {
    let (name, args): (&syn::Path, Vec<&Expr>) = match written {
        Expr::Path(path) => (&path.path, Vec::new()),
        Expr::Call(call) => match call.func.as_ref() {
            Expr::Path(path) => (&path.path, call.args.iter().collect()),
            _ => {
                errors.spanned(written, expected_encoding());
                return None;
            }
        },
        _ => {
            errors.spanned(written, expected_encoding());
            return None;
        }
    };
    let Some(ident) = name.get_ident() else {
        errors.spanned(name, expected_encoding());
        return None;
    };
    match ident.to_string().as_str() {
        kind @ ("Png8" | "Png16") => {
            let (values, well_formed) = named_arguments(&args, ["scale", "offset"], errors);
            // Every value is read, so that each mistake in one is reported.
            let [scale, offset] = values.map(|value| value.map(|value| evaluate(value, errors)));
            let (scale, offset) = (scale.unwrap_or(Some(1.0))?, offset.unwrap_or(Some(0.0))?);
            let bits = if kind == "Png8" { 8 } else { 16 };
            well_formed.then_some(Encoding::Png {
                bits,
                scale,
                offset,
            })
        }
        "Npy" => {
            let (values, well_formed) = named_arguments(&args, ["first"], errors);
            let [first] = values.map(|value| value.map(|value| evaluate_count(value, errors)));
            let first = match first {
                Some(count) => Some(count?),
                None => None,
            };
            well_formed.then_some(Encoding::Npy { first })
        }
        "PointInfo" => match args.as_slice() {
            [Expr::Lit(ExprLit {
                lit: Lit::Str(field),
                ..
            })] => Some(Encoding::PointInfo {
                // Leaked once per declaration, at compile time: the spec's field is `&'static str`.
                field: Box::leak(field.value().into_boxed_str()),
            }),
            _ => {
                errors.spanned(
                    written,
                    "`PointInfo` takes the field's name: `PointInfo(\"vanishing_points\")`",
                );
                None
            }
        },
        unknown => {
            let hint = match closest_match(unknown, ENCODINGS) {
                Some(known) => format!("did you mean `{known}`?"),
                None => expected_encoding(),
            };
            errors.spanned(ident, format!("unknown encoding `{unknown}`; {hint}"));
            None
        }
    }
}

fn expected_encoding() -> String {
    "expected an encoding: `Png8`, `Png16` (optionally `(scale = .., offset = ..)`), `Npy` \
     (optionally `(first = N)`) or `PointInfo(\"field\")`"
        .to_string()
}

/// The values of `key = value` arguments, in the order of `keys`, each key given at most once, and
/// whether all of `args` were such arguments (each mistake recorded).
fn named_arguments<'a, const N: usize>(
    args: &[&'a Expr],
    keys: [&'static str; N],
    errors: &mut Errors,
) -> ([Option<&'a Expr>; N], bool) {
    let mut values = [None; N];
    let mut well_formed = true;
    for arg in args {
        let Some((key, written)) = named_argument(arg, &keys, errors) else {
            well_formed = false;
            continue;
        };
        let slot = &mut values[key];
        if slot.is_some() {
            // As for the attribute's own keys: a later value would silently win.
            errors.spanned(
                &written.left,
                format!("`{}` is given twice; keep one", keys[key]),
            );
            well_formed = false;
        } else {
            *slot = Some(written.right.as_ref());
        }
    }
    (values, well_formed)
}

/// `key = value` with `key` one of `keys`: the key's index and the argument.
fn named_argument<'a>(
    arg: &'a Expr,
    keys: &[&'static str],
    errors: &mut Errors,
) -> Option<(usize, &'a syn::ExprAssign)> {
    let expected = || {
        let written: Vec<String> = keys.iter().map(|k| format!("`{k} = ...`")).collect();
        format!("expected {}", written.join(" or "))
    };
    let Expr::Assign(assign) = arg else {
        errors.spanned(arg, expected());
        return None;
    };
    let Expr::Path(left) = assign.left.as_ref() else {
        errors.spanned(&assign.left, expected());
        return None;
    };
    let written = left.path.get_ident().map(ToString::to_string);
    match keys.iter().position(|k| written.as_deref() == Some(*k)) {
        Some(key) => Some((key, assign)),
        None => {
            errors.spanned(&assign.left, expected());
            None
        }
    }
}

/// A number written with literals, `+ - * /`, parentheses and negation (`1.0 / 512.0`, `-32.0`).
pub(crate) fn evaluate(expr: &Expr, errors: &mut Errors) -> Option<f64> {
    let value = match expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Float(float) => float.base10_parse::<f64>().ok(),
            Lit::Int(int) => int.base10_parse::<f64>().ok(),
            _ => None,
        },
        Expr::Paren(inner) => return evaluate(&inner.expr, errors),
        Expr::Group(inner) => return evaluate(&inner.expr, errors),
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => {
            return evaluate(&unary.expr, errors).map(|v| -v)
        }
        Expr::Binary(binary) => {
            let left = evaluate(&binary.left, errors)?;
            let right = evaluate(&binary.right, errors)?;
            match binary.op {
                BinOp::Add(_) => Some(left + right),
                BinOp::Sub(_) => Some(left - right),
                BinOp::Mul(_) => Some(left * right),
                BinOp::Div(_) => Some(left / right),
                _ => None,
            }
        }
        _ => None,
    };
    if value.is_none() {
        errors.spanned(
            expr,
            "expected a number: literals with + - * / and parentheses, e.g. `1.0 / 512.0`",
        );
    }
    value
}

fn evaluate_count(expr: &Expr, errors: &mut Errors) -> Option<usize> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.spanned(expr, "expected a whole number");
                None
            }
        },
        _ => {
            errors.spanned(expr, "expected a whole number");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn encoding(expr: Expr) -> Result<Encoding, Vec<String>> {
        let mut errors = Errors::new();
        let parsed = parse_encoding(&expr, &mut errors);
        match errors.finish() {
            Ok(()) => Ok(parsed.expect("no errors but no encoding")),
            Err(e) => Err(e.into_iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn encodings_are_read_as_written() {
        assert_eq!(encoding(parse_quote!(Png8)), Ok(Encoding::png(8)));
        assert_eq!(
            encoding(parse_quote!(Png16(scale = 1.0 / 512.0))),
            Ok(Encoding::Png {
                bits: 16,
                scale: 1.0 / 512.0,
                offset: 0.0
            })
        );
        assert_eq!(
            encoding(parse_quote!(Png8(scale = 2.0 / 255.0, offset = -1.0))),
            Ok(Encoding::Png {
                bits: 8,
                scale: 2.0 / 255.0,
                offset: -1.0
            })
        );
        assert_eq!(
            encoding(parse_quote!(Png8(
                scale = (32.0 - 0.0) / 127.5,
                offset = -32
            ))),
            Ok(Encoding::Png {
                bits: 8,
                scale: 32.0 / 127.5,
                offset: -32.0
            })
        );
        assert_eq!(
            encoding(parse_quote!(Npy)),
            Ok(Encoding::Npy { first: None })
        );
        assert_eq!(
            encoding(parse_quote!(Npy(first = 100))),
            Ok(Encoding::Npy { first: Some(100) })
        );
        assert_eq!(
            encoding(parse_quote!(PointInfo("room"))),
            Ok(Encoding::PointInfo { field: "room" })
        );
    }

    #[test]
    fn mistakes_in_encodings_are_named() {
        assert_eq!(
            encoding(parse_quote!(Png(scale = 2.0))),
            Err(vec![
                "unknown encoding `Png`; did you mean `Png8`?".to_string()
            ])
        );
        assert_eq!(
            encoding(parse_quote!(Png16(scal = 2.0))),
            Err(vec!["expected `scale = ...` or `offset = ...`".to_string()])
        );
        assert_eq!(
            encoding(parse_quote!(Png16(scale = depth_scale()))),
            Err(vec![
                "expected a number: literals with + - * / and parentheses, e.g. `1.0 / 512.0`"
                    .to_string()
            ])
        );
        assert_eq!(
            encoding(parse_quote!(Png16(scale = 1.0, scale = 2.0))),
            Err(vec!["`scale` is given twice; keep one".to_string()])
        );
        assert_eq!(
            encoding(parse_quote!(Npy(first = 3, first = 3))),
            Err(vec!["`first` is given twice; keep one".to_string()])
        );
        // Each argument is judged, whatever the others are.
        assert_eq!(
            encoding(parse_quote!(Png8(scal = 2.0, offset = minus_one))),
            Err(vec![
                "expected `scale = ...` or `offset = ...`".to_string(),
                "expected a number: literals with + - * / and parentheses, e.g. `1.0 / 512.0`"
                    .to_string()
            ])
        );
        assert!(encoding(parse_quote!(PointInfo(room))).is_err());
        assert!(encoding(parse_quote!(Npy(first = 1.5))).is_err());
        assert!(encoding(parse_quote!("npy")).is_err());
    }
}
