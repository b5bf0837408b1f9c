//! Writing the `Task` impl of a checked declaration, or a stand-in where there is none.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;
use taskonomy_spec::{
    snake_case_from_type_name, Encoding, LossKind, OutputKind, OutputShape, Sampling, UNDECLARED,
};

use super::check::CheckedTask;
use super::labels::{CheckedLabels, Source};

/// The item followed by its `Task` impl.
pub(super) fn task_impl(
    runtime: &TokenStream,
    item: &syn::DeriveInput,
    task: &CheckedTask,
) -> TokenStream {
    let doc = doc_comment(&item.attrs);
    let task_impl = trait_impl(runtime, &item.ident, &doc, task);
    quote! {
        #item

        #task_impl
    }
}

/// A stand-in `Task` impl, written where no declaration can give one, so that the mistake is reported
/// once, by whoever found it, and not again by every use of the type.
pub(crate) enum Dummy<'a> {
    /// For a declaration with errors: named as it would be, so that a dictionary listing the type does
    /// not also say "`X` is not a task".
    Placeholder(&'a syn::DeriveInput),
    /// For a dictionary entry `name` that names no declared type: its spec is named
    /// [`UNDECLARED`](taskonomy_spec::UNDECLARED), which the dictionary reports as such, and the impl is
    /// never suggested where a task is expected.
    Undeclared(&'a Ident),
}

/// The `Task` impl of `dummy`: a task with a `Dense<1>` output and `L1` loss whose labels are stored files
/// of the default encoding (spec and label source alike).
pub(crate) fn dummy_impl(runtime: &TokenStream, dummy: Dummy<'_>) -> TokenStream {
    let dummy_task = |name: &str| CheckedTask {
        output: OutputShape::new(OutputKind::Dense, 1),
        output_ident: Ident::new(OutputKind::Dense.type_name(), Span::call_site()),
        loss_ident: Ident::new(LossKind::L1.type_name(), Span::call_site()),
        name: name.to_string(),
        aliases: Vec::new(),
        domain: name.to_string(),
        views: 1,
        label_cost: 1.0,
        importance: 1.0,
        decoder: None,
        labels: CheckedLabels {
            source: Source::Stored {
                encoding: Encoding::DEFAULT,
            },
            sampling: Sampling::Fixated,
        },
    };
    match dummy {
        // A generic type has no single spec; its declaration was reported as such.
        Dummy::Placeholder(item) if !item.generics.params.is_empty() => TokenStream::new(),
        Dummy::Placeholder(item) => {
            let name = snake_case_from_type_name(&item.ident.to_string());
            let doc = doc_comment(&item.attrs);
            trait_impl(runtime, &item.ident, &doc, &dummy_task(&name))
        }
        Dummy::Undeclared(ident) => {
            let task_impl = trait_impl(runtime, ident, "", &dummy_task(UNDECLARED));
            quote! {
                #[diagnostic::do_not_recommend]
                #task_impl
            }
        }
    }
}

/// `impl Task for #ident`, from a checked declaration.
fn trait_impl(runtime: &TokenStream, ident: &Ident, doc: &str, task: &CheckedTask) -> TokenStream {
    let spec = quote!(#runtime::spec);
    let output_kind = &task.output_ident;
    let size = task.output.size;
    let output = quote_spanned!(output_kind.span()=> #spec::#output_kind<#size>);
    let loss_ident = &task.loss_ident;
    let loss = quote_spanned!(loss_ident.span()=> #spec::#loss_ident);
    // A named decoder is checked by the `Decoder<Output>` bound on `Task::Decoder`; spanning the
    // associated type with the user's tokens puts a failure of that bound on the decoder they wrote.
    let (decoder, decoder_type) = match &task.decoder {
        Some(decoder) => (
            quote_spanned!(decoder.span()=> type Decoder = #decoder;),
            quote!(#decoder),
        ),
        None => {
            let default = quote!(<#output as #spec::Output>::DefaultDecoder);
            (quote!(type Decoder = #default;), default)
        }
    };
    let spec_value = spec_value(runtime, ident, doc, task, &decoder_type);
    let labels = label_source(runtime, &output, task.views, &task.labels.source);
    quote! {
        impl #spec::Task for #ident {
            type Output = #output;
            type Loss = #loss;
            #decoder
            const SPEC: #spec::TaskSpec = #spec_value;
            const LABELS: #runtime::data::labels::LabelSource = #labels;
        }
    }
}

/// The `LabelSource` of a checked declaration. A label function is wrapped in a function of the erased
/// type, which calls it and converts its result through `IntoLabel<Output>`, spanned at the function the
/// user named: a function that returns another type than the output's label is reported there.
fn label_source(
    runtime: &TokenStream,
    output: &TokenStream,
    views: usize,
    source: &Source,
) -> TokenStream {
    let data = quote!(#runtime::data);
    let label_source = quote!(#data::labels::LabelSource);
    let erased = quote!(::core::result::Result<#data::labels::Labels, #data::labels::LabelError>);
    let into_labels = |function: &syn::Path, label: TokenStream, size: TokenStream| quote_spanned!(function.span()=> #data::labels::IntoLabel::<#output>::into_labels(#label, #size));
    match source {
        Source::Stored { encoding } => {
            let encoding = encoding_tokens(runtime, *encoding);
            quote!(#label_source::Stored { encoding: #encoding })
        }
        Source::Rendered { function, encoding } => {
            let call = quote_spanned!(function.span()=> #function(view));
            let convert = into_labels(function, call, quote!(view.size()));
            let encoding = encoding_tokens(runtime, *encoding);
            quote!(#label_source::Rendered {
                label: {
                    fn rendered(view: &#data::view::SceneView<'_>) -> #erased {
                        #convert
                    }
                    rendered
                },
                encoding: #encoding,
            })
        }
        Source::FromImage { function } => {
            let image = quote!(#data::labels::RgbImage);
            let call = quote_spanned!(function.span()=> #function(image, seed));
            let convert = into_labels(function, quote!(label), quote!(image.size()));
            let result = quote!(
                ::core::result::Result<(#image, #data::labels::Labels), #data::labels::LabelError>
            );
            quote!(#label_source::FromRgb {
                derive: {
                    fn derive(image: &#image, seed: u64) -> #result {
                        let (input, label): (#image, _) = #call;
                        ::core::result::Result::Ok((input, #convert?))
                    }
                    derive
                },
            })
        }
        Source::FromPointInfo { function } => {
            let info = quote!(#data::layout::PointInfo);
            // One view's label is a function of its record; several views' of an array of theirs.
            let call = if views == 1 {
                quote_spanned!(function.span()=> #function(&views[0]))
            } else {
                quote_spanned!(function.span()=> #function(views))
            };
            // Image-level labels do not depend on the image size.
            let convert = into_labels(function, call, quote!(0));
            quote!(#label_source::FromPointInfo {
                label: {
                    fn from_point_info(views: &[#info]) -> #erased {
                        let ::core::result::Result::Ok(views) = <&[#info; #views]>::try_from(views) else {
                            return ::core::result::Result::Err(#data::labels::LabelError(::std::format!(
                                "expected the point-info records of {} views, found {}",
                                #views,
                                views.len()
                            )));
                        };
                        #convert
                    }
                    from_point_info
                },
            })
        }
    }
}

/// An `Encoding` value as a constant expression.
fn encoding_tokens(runtime: &TokenStream, encoding: Encoding) -> TokenStream {
    let encoding_type = quote!(#runtime::spec::Encoding);
    match encoding {
        Encoding::Png {
            bits,
            scale,
            offset,
        } => {
            let (scale, offset) = (Literal::f64_suffixed(scale), Literal::f64_suffixed(offset));
            quote!(#encoding_type::Png { bits: #bits, scale: #scale, offset: #offset })
        }
        Encoding::Npy { first: None } => {
            quote!(#encoding_type::Npy { first: ::core::option::Option::None })
        }
        Encoding::Npy { first: Some(n) } => {
            quote!(#encoding_type::Npy { first: ::core::option::Option::Some(#n) })
        }
        Encoding::PointInfo { field } => quote!(#encoding_type::PointInfo { field: #field }),
    }
}

/// The task's `TaskSpec` literal. The decoder's name is read through `DecoderInfo`, which does not depend
/// on the output, so a decoder that cannot produce the output is reported once, at the `type Decoder`
/// line.
fn spec_value(
    runtime: &TokenStream,
    ident: &Ident,
    doc: &str,
    task: &CheckedTask,
    decoder: &TokenStream,
) -> TokenStream {
    let spec = quote!(#runtime::spec);
    let CheckedTask {
        output,
        output_ident,
        name,
        aliases,
        domain,
        views,
        label_cost,
        importance,
        labels,
        ..
    } = task;
    let type_name = ident.to_string();
    let size = output.size;
    let loss_kind = &task.loss_ident;
    let sampling = Ident::new(labels.sampling.type_name(), Span::call_site());
    let labelling = Ident::new(labels.source.labelling().variant_name(), Span::call_site());
    let encoding = match labels.source.encoding() {
        Some(encoding) => {
            let encoding = encoding_tokens(runtime, encoding);
            quote!(::core::option::Option::Some(#encoding))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #spec::TaskSpec {
            name: #name,
            type_name: #type_name,
            aliases: &[#(#aliases),*],
            domain: #domain,
            output: #spec::OutputShape::new(#spec::OutputKind::#output_ident, #size),
            loss: #spec::LossKind::#loss_kind,
            views: #views,
            sampling: #spec::Sampling::#sampling,
            labelling: #spec::Labelling::#labelling,
            encoding: #encoding,
            label_cost: #label_cost,
            importance: #importance,
            decoder: <#decoder as #runtime::decoder::DecoderInfo>::NAME,
            decoder_shape: <#decoder as #runtime::decoder::DecoderInfo>::SHAPE,
            doc: #doc,
        }
    }
}

/// The item's doc comment as one string: `///` lines joined with newlines, the single space after `///`
/// removed.
pub(crate) fn doc_comment(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_string()
        })
        .collect();
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_comments_are_joined_without_the_leading_space() {
        let item: syn::DeriveInput = syn::parse_quote! {
            /// Per-pixel z-buffer depth.
            ///
            /// In metres.
            #[derive(Debug)]
            struct Depth;
        };
        assert_eq!(
            doc_comment(&item.attrs),
            "Per-pixel z-buffer depth.\n\nIn metres."
        );
    }
}
