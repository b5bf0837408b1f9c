//! `#[task(...)]`: parse the arguments, check them, emit a `Task` impl.

mod check;
mod emit;
pub(crate) use emit::{doc_comment, dummy_impl, Dummy};
mod labels;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use crate::errors::Errors;

/// Expands `#[task(args)] item`. Always re-emits the item; on errors adds a placeholder `Task` impl
/// beside the `compile_error!`s so that uses of the type elsewhere do not fail too.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let runtime = crate::paths::runtime();
    let item: syn::DeriveInput = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new(
                item.span(),
                "#[task] goes on a struct: `#[task(output = ..., loss = ...)] pub struct Depth;`",
            )
            .to_compile_error();
            return quote!(#error #item);
        }
    };
    let attribute_span = args.span();
    let mut errors = Errors::new();
    let checked = match parse::parse_args(args, &mut errors) {
        Ok(args) => {
            check_item_shape(&item, &mut errors);
            check::check(args, &item.ident, attribute_span, &mut errors)
        }
        Err(syntax) => {
            errors.push(syntax);
            None
        }
    };
    match (errors.finish(), checked) {
        (Ok(()), Some(task)) => emit::task_impl(&runtime, &item, &task),
        (outcome, _) => {
            let errors = outcome.err().unwrap_or_else(|| {
                syn::Error::new(attribute_span, "this task declaration could not be checked")
            });
            let compile_errors = errors.to_compile_error();
            let placeholder = dummy_impl(&runtime, Dummy::Placeholder(&item));
            quote!(#compile_errors #item #placeholder)
        }
    }
}

/// A task is a plain struct: no generics (its spec is one constant), and not an enum or union.
fn check_item_shape(item: &syn::DeriveInput, errors: &mut Errors) {
    match &item.data {
        syn::Data::Struct(_) => {}
        syn::Data::Enum(data) => errors.spanned(
            data.enum_token,
            "#[task] goes on a struct, not an enum: each task is its own type",
        ),
        syn::Data::Union(data) => errors.spanned(data.union_token, "#[task] goes on a struct"),
    }
    if !item.generics.params.is_empty() {
        errors.spanned(
            &item.generics,
            "a task type cannot be generic: its spec is a single constant",
        );
    }
}
