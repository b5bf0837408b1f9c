//! Parsing `#[task(...)]` arguments into plain data, without judging them yet.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Expr, ExprLit, ExprUnary, Ident, Lit, LitInt, LitStr, Token, Type, UnOp};

use crate::errors::Errors;

/// The keys `#[task(...)]` understands, for did-you-mean suggestions.
pub(crate) const KEYS: [&str; 14] = [
    "output",
    "loss",
    "label",
    "from_rgb",
    "point_info",
    "encoding",
    "name",
    "aliases",
    "domain",
    "views",
    "sampling",
    "label_cost",
    "importance",
    "decoder",
];

/// A number written in an argument, with how and where it was written.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Number {
    pub value: f64,
    /// The tokens as written (`-1.0`), for messages and spans covering all of them.
    pub written: Expr,
}

/// The arguments exactly as written; [`super::check`] decides whether they make sense.
#[derive(Default)]
pub(crate) struct TaskArgs {
    pub output: Option<Type>,
    pub loss: Option<syn::Path>,
    pub name: Option<LitStr>,
    pub aliases: Vec<LitStr>,
    pub domain: Option<LitStr>,
    pub views: Option<LitInt>,
    pub label_cost: Option<Number>,
    pub importance: Option<Number>,
    pub decoder: Option<Type>,
    /// `label = f`: a function of a rendered synthetic view.
    pub label: Option<syn::Path>,
    /// `from_rgb = f`: the input and label derived from the RGB image.
    pub from_rgb: Option<syn::Path>,
    /// `point_info = f`: a function of the views' point-info records.
    pub point_info: Option<syn::Path>,
    /// `encoding = Png16(scale = ...)`: how label files are stored, as written.
    pub encoding: Option<Expr>,
    /// `sampling = NonFixated`.
    pub sampling: Option<syn::Path>,
    /// Unknown keys, repeated keys and similar mistakes that parsing can recover from.
    pub mistakes: Vec<syn::Error>,
}

impl Parse for TaskArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = TaskArgs::default();
        let mut seen: Vec<Ident> = Vec::new();
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            input.parse::<Token![=]>()?;
            if seen.contains(&key) {
                args.mistakes.push(syn::Error::new(
                    key.span(),
                    format!("`{key}` is given twice; keep one"),
                ));
            }
            seen.push(key.clone());
            match key.to_string().as_str() {
                "output" => args.output = Some(input.parse()?),
                "loss" => args.loss = Some(input.parse()?),
                "name" => args.name = Some(input.parse()?),
                "aliases" => args.aliases = parse_string_list(input)?,
                "domain" => args.domain = Some(input.parse()?),
                "views" => args.views = Some(input.parse()?),
                "label_cost" => args.label_cost = Some(parse_number(input)?),
                "importance" => args.importance = Some(parse_number(input)?),
                "decoder" => args.decoder = Some(input.parse()?),
                "label" => args.label = Some(input.parse()?),
                "from_rgb" => args.from_rgb = Some(input.parse()?),
                "point_info" => args.point_info = Some(input.parse()?),
                "encoding" => args.encoding = Some(input.parse()?),
                "sampling" => args.sampling = Some(input.parse()?),
                unknown => {
                    let hint = match taskonomy_spec::closest_match(unknown, KEYS) {
                        Some(known) => format!("did you mean `{known}`?"),
                        None => format!("expected one of: {}", KEYS.join(", ")),
                    };
                    args.mistakes.push(syn::Error::new(
                        key.span(),
                        format!("unknown task attribute `{unknown}`; {hint}"),
                    ));
                    skip_value(input)?;
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// `["a", "b"]`
fn parse_string_list(input: ParseStream) -> syn::Result<Vec<LitStr>> {
    let content;
    bracketed!(content in input);
    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
    Ok(list.into_iter().collect())
}

/// An integer or float literal, optionally negated (so that `-1.0` is reported as "must be positive"
/// rather than as a syntax error).
fn parse_number(input: ParseStream) -> syn::Result<Number> {
    let expr: Expr = input.parse()?;
    let (negative, literal) = match &expr {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match inner.as_ref() {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            _ => return Err(syn::Error::new_spanned(&expr, "expected a number literal")),
        },
        _ => return Err(syn::Error::new_spanned(&expr, "expected a number literal")),
    };
    let magnitude = match literal {
        Lit::Float(float) => float.base10_parse::<f64>()?,
        Lit::Int(int) => int.base10_parse::<f64>()?,
        _ => {
            return Err(syn::Error::new_spanned(
                literal,
                "expected a number literal",
            ))
        }
    };
    Ok(Number {
        value: if negative { -magnitude } else { magnitude },
        written: expr,
    })
}

/// Skips the value of an unknown key, whatever it looks like, up to the next top-level comma.
fn skip_value(input: ParseStream) -> syn::Result<()> {
    if input.fork().parse::<Type>().is_ok() {
        input.parse::<Type>()?;
    } else {
        input.parse::<Expr>()?;
    }
    Ok(())
}

/// Parses the attribute's arguments, recording recoverable mistakes in `errors`.
pub(crate) fn parse_args(
    tokens: proc_macro2::TokenStream,
    errors: &mut Errors,
) -> syn::Result<TaskArgs> {
    let mut args: TaskArgs = syn::parse2(tokens)?;
    for mistake in args.mistakes.drain(..) {
        errors.push(mistake);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> (TaskArgs, Vec<String>) {
        let mut errors = Errors::new();
        let args = parse_args(tokens, &mut errors).expect("syntax");
        let messages = match errors.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (args, messages)
    }

    #[test]
    fn every_key_is_read() {
        let (args, mistakes) = parse(quote!(
            output = Dense<3>, loss = Cosine, name = "surface_normals", aliases = ["rgb2sfnorm"],
            domain = "normal", views = 1, label_cost = 2, importance = 0.5, decoder = MyDecoder,
            label = labels::normals, encoding = Png8(scale = 2.0 / 255.0, offset = -1.0),
            from_rgb = f, point_info = g, sampling = Matching,
        ));
        assert!(mistakes.is_empty());
        assert!(args.output.is_some() && args.loss.is_some() && args.decoder.is_some());
        assert!(args.label.is_some() && args.encoding.is_some() && args.sampling.is_some());
        assert!(args.from_rgb.is_some() && args.point_info.is_some());
        assert_eq!(args.name.unwrap().value(), "surface_normals");
        assert_eq!(args.aliases.len(), 1);
        assert_eq!(args.domain.unwrap().value(), "normal");
        assert_eq!(args.views.unwrap().base10_parse::<usize>().unwrap(), 1);
        assert_eq!(args.label_cost.unwrap().value, 2.0);
        assert_eq!(args.importance.unwrap().value, 0.5);
    }

    #[test]
    fn unknown_and_repeated_keys_are_recoverable_mistakes() {
        let (args, mistakes) = parse(quote!(
            output = Dense<1>, los = L1, loss = L1, loss = L2, colour = Vec<u8>
        ));
        assert!(args.output.is_some());
        assert_eq!(
            mistakes,
            [
                "unknown task attribute `los`; did you mean `loss`?",
                "`loss` is given twice; keep one",
                "unknown task attribute `colour`; expected one of: output, loss, label, from_rgb, point_info, encoding, name, aliases, domain, views, sampling, label_cost, importance, decoder",
            ]
        );
    }

    #[test]
    fn negative_numbers_are_parsed_to_be_judged_later() {
        let (args, _) = parse(quote!(label_cost = -1.5));
        assert_eq!(args.label_cost.unwrap().value, -1.5);
    }

    #[test]
    fn syntax_errors_stop_parsing() {
        let mut errors = Errors::new();
        assert!(parse_args(quote!(output Dense<1>), &mut errors).is_err());
        errors.finish().unwrap();
    }
}
