//! Writing the `Task` impl of a checked declaration.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use taskonomy_spec::{snake_case_from_type_name, Encoding, Labelling, Sampling};

use super::check::CheckedTask;
use super::labels::Source;

/// The item followed by its `Task` impl.
pub(super) fn task_impl(
    runtime: &TokenStream,
    item: &syn::DeriveInput,
    task: &CheckedTask,
) -> TokenStream {
    let ident = &item.ident;
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
    let fields = SpecFields {
        decoder: decoder_type,
        name: &task.name,
        aliases: &task.aliases,
        domain: &task.domain,
        output_kind,
        size,
        loss_kind: loss_ident,
        views: task.views,
        sampling: task.labels.sampling,
        labelling: task.labels.source.labelling(),
        encoding: task.labels.source.encoding(),
        label_cost: task.label_cost,
        importance: task.importance,
    };
    let spec_value = fields.to_tokens(runtime, item);
    let labels = label_source(runtime, &output, task.views, &task.labels.source);
    quote! {
        #item

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

/// A stand-in `Task` impl for a declaration with errors, so that a dictionary listing the type reports
/// the declaration's errors only, not "`X` is not a task" on top of them.
pub(super) fn placeholder_impl(runtime: &TokenStream, item: &syn::DeriveInput) -> TokenStream {
    if !item.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &item.ident;
    let spec = quote!(#runtime::spec);
    let name = snake_case_from_type_name(&ident.to_string());
    let dense = syn::Ident::new("Dense", Span::call_site());
    let l1 = syn::Ident::new("L1", Span::call_site());
    let fields = SpecFields {
        decoder: quote!(#runtime::decoder::PixelDecoder),
        name: &name,
        aliases: &[],
        domain: &name,
        output_kind: &dense,
        size: 1,
        loss_kind: &l1,
        views: 1,
        sampling: Sampling::Fixated,
        labelling: Labelling::Stored,
        encoding: Some(Encoding::DEFAULT),
        label_cost: 1.0,
        importance: 1.0,
    };
    let spec_value = fields.to_tokens(runtime, item);
    let encoding = encoding_tokens(runtime, Encoding::DEFAULT);
    quote! {
        impl #spec::Task for #ident {
            type Output = #spec::Dense<1>;
            type Loss = #spec::L1;
            type Decoder = #runtime::decoder::PixelDecoder;
            const SPEC: #spec::TaskSpec = #spec_value;
            const LABELS: #runtime::data::labels::LabelSource =
                #runtime::data::labels::LabelSource::Stored { encoding: #encoding };
        }
    }
}

/// The values of a `TaskSpec` literal.
struct SpecFields<'a> {
    /// The decoder type; its name is read through `DecoderInfo`, which does not depend on the output,
    /// so a decoder that cannot produce the output is reported once, at the `type Decoder` line.
    decoder: TokenStream,
    name: &'a str,
    aliases: &'a [String],
    domain: &'a str,
    output_kind: &'a syn::Ident,
    size: usize,
    loss_kind: &'a syn::Ident,
    views: usize,
    sampling: Sampling,
    labelling: Labelling,
    encoding: Option<Encoding>,
    label_cost: f64,
    importance: f64,
}

impl SpecFields<'_> {
    fn to_tokens(&self, runtime: &TokenStream, item: &syn::DeriveInput) -> TokenStream {
        let spec = quote!(#runtime::spec);
        let SpecFields {
            decoder,
            name,
            aliases,
            domain,
            output_kind,
            size,
            loss_kind,
            views,
            sampling,
            labelling,
            encoding,
            label_cost,
            importance,
        } = self;
        let type_name = item.ident.to_string();
        let doc = doc_comment(&item.attrs);
        let sampling = syn::Ident::new(sampling.type_name(), Span::call_site());
        let labelling = syn::Ident::new(labelling.variant_name(), Span::call_site());
        let encoding = match encoding {
            Some(encoding) => {
                let encoding = encoding_tokens(runtime, *encoding);
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
                output: #spec::OutputShape::new(#spec::OutputKind::#output_kind, #size),
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
