//! `task_dictionary! { pub Name { sources: [..], targets: [..] } }`: parse, check, emit the dictionary
//! enum and its `Dictionary` impl.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{braced, bracketed, Attribute, Ident, Token, Visibility};

use crate::errors::Errors;

const KEYS: [&str; 2] = ["sources", "targets"];

/// The macro input exactly as written.
pub(crate) struct DictionaryInput {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    lists: Vec<TaskList>,
}

/// `sources: [A, b::B]`
struct TaskList {
    key: Ident,
    entries: Vec<syn::Path>,
}

impl Parse for DictionaryInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let ident = input.parse()?;
        let content;
        braced!(content in input);
        let mut lists = Vec::new();
        while !content.is_empty() {
            let key: Ident = content.parse()?;
            content.parse::<Token![:]>()?;
            let entries;
            bracketed!(entries in content);
            let entries = Punctuated::<syn::Path, Token![,]>::parse_terminated(&entries)?;
            lists.push(TaskList {
                key,
                entries: entries.into_iter().collect(),
            });
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        Ok(DictionaryInput {
            attrs,
            vis,
            ident,
            lists,
        })
    }
}

/// A dictionary that passed every check.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct CheckedDictionary {
    /// Every task once: sources in order, then targets that are not sources. Each with the variant name
    /// that identifies it.
    tasks: Vec<(Ident, syn::Path)>,
    sources: Vec<usize>,
    targets: Vec<usize>,
}

/// Checks the lists: both present once, neither empty, no task twice in a list, no two different paths
/// ending in the same type name (they would need the same variant).
pub(crate) fn check(input: &DictionaryInput, errors: &mut Errors) -> Option<CheckedDictionary> {
    let mut sources: Option<&TaskList> = None;
    let mut targets: Option<&TaskList> = None;
    for list in &input.lists {
        let slot = match list.key.to_string().as_str() {
            "sources" => &mut sources,
            "targets" => &mut targets,
            unknown => {
                let hint = match taskonomy_spec::closest_match(unknown, KEYS) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => "a dictionary has `sources: [...]` and `targets: [...]`".to_string(),
                };
                errors.spanned(&list.key, format!("unknown list `{unknown}`; {hint}"));
                continue;
            }
        };
        if slot.is_some() {
            errors.spanned(&list.key, format!("`{}` is given twice", list.key));
        } else {
            *slot = Some(list);
        }
    }
    for (key, list) in [("sources", sources), ("targets", targets)] {
        match list {
            None => errors.spanned(
                &input.ident,
                format!("dictionary `{}` needs a `{key}: [...]` list", input.ident),
            ),
            Some(list) if list.entries.is_empty() => errors.spanned(
                &list.key,
                format!("`{key}` is empty: a dictionary needs at least one task here"),
            ),
            Some(list) => check_no_repeats(list, errors),
        }
    }
    let (sources, targets) = (sources?, targets?);

    let mut tasks: Vec<(Ident, syn::Path)> = Vec::new();
    let mut index_of = |path: &syn::Path, errors: &mut Errors| -> Option<usize> {
        let written = path_text(path);
        if let Some(i) = tasks.iter().position(|(_, p)| path_text(p) == written) {
            return Some(i);
        }
        let variant = path.segments.last()?.ident.clone();
        if let Some((_, other)) = tasks.iter().find(|(v, _)| *v == variant) {
            errors.spanned(
                path,
                format!(
                    "`{written}` and `{}` would both be the dictionary's task `{variant}`: \
                     write one type the same way everywhere, or import one of two different \
                     types under another name (`use ... as ...;`)",
                    path_text(other)
                ),
            );
            return None;
        }
        if !path.segments.iter().all(|s| s.arguments.is_none()) {
            errors.spanned(
                path,
                "a task in a dictionary is a plain type, without generics",
            );
            return None;
        }
        tasks.push((variant, path.clone()));
        Some(tasks.len() - 1)
    };
    let source_ids: Vec<Option<usize>> = sources
        .entries
        .iter()
        .map(|p| index_of(p, errors))
        .collect();
    let target_ids: Vec<Option<usize>> = targets
        .entries
        .iter()
        .map(|p| index_of(p, errors))
        .collect();
    let sources = dedup(source_ids.into_iter().collect::<Option<Vec<_>>>()?);
    let targets = dedup(target_ids.into_iter().collect::<Option<Vec<_>>>()?);
    if sources.is_empty() || targets.is_empty() {
        return None;
    }
    Some(CheckedDictionary {
        tasks,
        sources,
        targets,
    })
}

fn check_no_repeats(list: &TaskList, errors: &mut Errors) {
    for (i, entry) in list.entries.iter().enumerate() {
        let written = path_text(entry);
        if let Some(first) = list.entries[..i]
            .iter()
            .position(|e| path_text(e) == written)
        {
            errors.spanned(
                entry,
                format!(
                    "`{written}` is already in `{}` (entry {}); list each task once",
                    list.key,
                    first + 1
                ),
            );
        }
    }
}

/// Entries repeat only after an error was already recorded; keep the first.
fn dedup(ids: Vec<usize>) -> Vec<usize> {
    let mut seen = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen
}

/// `tokens` with every token, inside groups too, moved to `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut moved =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                moved.set_span(span);
                tree = proc_macro2::TokenTree::Group(moved);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

fn path_text(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// Expands the macro input. On errors the enum is still emitted, with a placeholder `Dictionary` impl,
/// beside the `compile_error!`s, so that uses of the dictionary elsewhere do not fail too.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DictionaryInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(syntax) => return syntax.to_compile_error(),
    };
    let runtime = crate::paths::runtime();
    let mut errors = Errors::new();
    let checked = check(&input, &mut errors);
    match (errors.finish(), checked) {
        (Ok(()), Some(dictionary)) => emit(&runtime, &input, &dictionary),
        (outcome, _) => {
            let errors = outcome
                .err()
                .unwrap_or_else(|| {
                    syn::Error::new(input.ident.span(), "this dictionary could not be checked")
                })
                .to_compile_error();
            let placeholder = placeholder(&runtime, &input);
            quote!(#errors #placeholder)
        }
    }
}

/// The dictionary's enum, with one variant per distinct task type name written, and a `Dictionary` impl
/// with empty tables: what the rest of the crate needs to compile while the dictionary has errors.
fn placeholder(runtime: &TokenStream, input: &DictionaryInput) -> TokenStream {
    let spec = quote!(#runtime::spec);
    let mut tasks: Vec<(Ident, syn::Path)> = Vec::new();
    for path in input.lists.iter().flat_map(|list| &list.entries) {
        if let Some(segment) = path.segments.last() {
            if !tasks.iter().any(|(variant, _)| *variant == segment.ident) {
                tasks.push((segment.ident.clone(), path.clone()));
            }
        }
    }
    let ident = &input.ident;
    let name = ident.to_string();
    let enum_and_count = enum_and_count(input, &tasks);
    quote! {
        #enum_and_count

        impl #spec::Dictionary for #ident {
            const NAME: &'static str = #name;
            const DOC: &'static str = "";
            const ALL: &'static [Self] = &[];
            const SPECS: &'static [#spec::TaskSpec] = &[];
            const LABELS: &'static [#runtime::data::labels::LabelSource] = &[];
            const SOURCES: &'static [Self] = &[];
            const TARGETS: &'static [Self] = &[];

            fn index(self) -> usize {
                self as usize
            }
        }
    }
}

/// The dictionary's enum, a variant per task (the variant's name and the task's path as written), and
/// its `COUNT`: written alike with or without errors, so that user code naming either compiles in both.
fn enum_and_count(input: &DictionaryInput, tasks: &[(Ident, syn::Path)]) -> TokenStream {
    let DictionaryInput {
        attrs, vis, ident, ..
    } = input;
    let variants = tasks.iter().map(|(variant, _)| variant);
    let variant_docs = tasks
        .iter()
        .map(|(_, path)| format!("The task [`{}`].", path_text(path)));
    let count = tasks.len();
    let count_doc = format!("The number of tasks in `{ident}`.");
    quote! {
        #(#attrs)*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #vis enum #ident {
            #( #[doc = #variant_docs] #variants, )*
        }

        impl #ident {
            #[doc = #count_doc]
            pub const COUNT: usize = #count;
        }
    }
}

fn emit(
    runtime: &TokenStream,
    input: &DictionaryInput,
    dictionary: &CheckedDictionary,
) -> TokenStream {
    let ident = &input.ident;
    let spec = quote!(#runtime::spec);
    let name = ident.to_string();
    let doc = crate::task::doc_comment(&input.attrs);
    let variants: Vec<&Ident> = dictionary.tasks.iter().map(|(v, _)| v).collect();
    let sources = dictionary.sources.iter().map(|&i| variants[i]);
    let targets = dictionary.targets.iter().map(|&i| variants[i]);
    let enum_and_count = enum_and_count(input, &dictionary.tasks);
    let table_module = format_ident!("__taskonomy_dictionary_{}", ident);
    let tables = tables(runtime, dictionary);
    let checks = entry_checks(runtime, ident, dictionary);
    quote! {
        #enum_and_count

        impl #spec::Dictionary for #ident {
            const NAME: &'static str = #name;
            const DOC: &'static str = #doc;
            const ALL: &'static [Self] = &[#(Self::#variants),*];
            const SPECS: &'static [#spec::TaskSpec] = #table_module::SPECS;
            const LABELS: &'static [#runtime::data::labels::LabelSource] = #table_module::LABELS;
            const SOURCES: &'static [Self] = &[#(Self::#sources),*];
            const TARGETS: &'static [Self] = &[#(Self::#targets),*];

            fn index(self) -> usize {
                self as usize
            }
        }

        #[doc(hidden)]
        #[allow(non_snake_case, non_camel_case_types)]
        mod #table_module {
            #tables
        }

        #checks
    }
}

/// The body of the dictionary's hidden module: the spec and label tables, read from each entry's `Task`
/// impl.
///
/// Entries are resolved inside a block that imports everything of the dictionary's module, within a
/// module that declares a stand-in type for every entry written as a single name. A declared or imported
/// task is found through the import first; an entry that names nothing finds its stand-in, whose spec
/// fails [`assert_declared`](taskonomy_spec::assert_declared) with a message of ours, instead of rustc's
/// "cannot find type" and its hint towards the dictionary's own variant of that name.
fn tables(runtime: &TokenStream, dictionary: &CheckedDictionary) -> TokenStream {
    let spec = quote!(#runtime::spec);
    let labels = quote!(#runtime::data::labels::LabelSource);
    let stand_ins = dictionary
        .tasks
        .iter()
        .filter_map(|(_, path)| path.get_ident())
        .map(|name| {
            let stand_in = crate::task::dummy_impl(runtime, crate::task::Dummy::Undeclared(name));
            quote! {
                pub struct #name;
                #stand_in
            }
        });
    // The paths as seen from inside this module: `self::` and `super::` move one level up.
    let paths: Vec<TokenStream> = dictionary
        .tasks
        .iter()
        .map(|(_, path)| from_child_module(path))
        .collect();
    let specs = paths
        .iter()
        .zip(&dictionary.tasks)
        .map(|(path, (_, written))| quote_spanned!(written.span()=> <#path as #spec::Task>::SPEC));
    let label_sources = paths.iter().zip(&dictionary.tasks).map(
        |(path, (_, written))| quote_spanned!(written.span()=> <#path as #spec::Task>::LABELS),
    );
    quote! {
        #(#stand_ins)*

        pub(super) const SPECS: &[#spec::TaskSpec] = {
            #[allow(unused_imports)]
            use super::*;
            &[#(#specs),*]
        };

        pub(super) const LABELS: &[#labels] = {
            #[allow(unused_imports)]
            use super::*;
            &[#(#label_sources),*]
        };
    }
}

/// The checks of what no single declaration can see: every entry declared, names and rendered domains
/// distinct. They read the dictionary's spec table and sit beside the dictionary, not in its hidden
/// module, so that a failure is reported as a failed `const _` rather than one of a module the user never
/// wrote.
fn entry_checks(
    runtime: &TokenStream,
    ident: &Ident,
    dictionary: &CheckedDictionary,
) -> TokenStream {
    let spec = quote!(#runtime::spec);
    let specs = quote!(<#ident as #spec::Dictionary>::SPECS);
    let dictionary_name = ident.to_string();
    let written: Vec<String> = dictionary
        .tasks
        .iter()
        .map(|(variant, _)| variant.to_string())
        .collect();
    // Only an entry written as a single name can find a stand-in, and so be undeclared.
    let declared = dictionary
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, (_, path))| path.get_ident().is_some())
        .map(|(index, (variant, path))| {
            let name = variant.to_string();
            let hint = similar_names(&name, &written);
            let check = quote! {
                const _: () =
                    #spec::assert_declared(&#specs[#index], #name, #dictionary_name, #hint);
            };
            respan(check, path.span())
        });
    // Names, aliases and rendered domains must be unique across the dictionary, but they live in other
    // items' attributes, so they are compared by `const` evaluation, one check per task against every
    // earlier one, spanned at the later task.
    let pair_checks = dictionary
        .tasks
        .iter()
        .enumerate()
        .skip(1)
        .map(|(later, (_, path))| {
            let check = quote! {
                const _: () = {
                    let specs = #specs;
                    let mut earlier = 0;
                    while earlier < #later {
                        let (a, b) = (&specs[earlier], &specs[#later]);
                        // A stand-in is reported once, as undeclared.
                        if a.is_declared() && b.is_declared() {
                            #spec::assert_distinct_names(a, b);
                            #spec::assert_distinct_rendered_domains(a, b);
                        }
                        earlier += 1;
                    }
                };
            };
            // Every token, the runtime's path included, takes the entry's span: rustc reports a failed
            // `const` at the span of the whole expression, which is the entry only if all its tokens are.
            respan(check, path.span())
        });
    quote! {
        #(#declared)*
        #(#pair_checks)*
    }
}

/// `path` as written in the dictionary's module, seen from its child module.
fn from_child_module(path: &syn::Path) -> TokenStream {
    let mut segments = path.segments.iter().peekable();
    let first = segments.peek().map(|s| s.ident.to_string());
    let prefix = match first.as_deref() {
        Some("self") => {
            segments.next();
            quote!(super::)
        }
        Some("super") => quote!(super::),
        _ => TokenStream::new(),
    };
    let rest: Vec<_> = segments.collect();
    let leading = path.leading_colon;
    quote!(#leading #prefix #(#rest)::*)
}

/// "; did you mean `X`?" for the other entries that look like `name` (a likely typo, or one name inside
/// the other, as `Normals` in `SurfaceNormals`), or nothing.
fn similar_names(name: &str, entries: &[String]) -> String {
    let others: Vec<&str> = entries
        .iter()
        .map(String::as_str)
        .filter(|other| *other != name)
        .collect();
    let lower = name.to_lowercase();
    let mut similar: Vec<&str> = others
        .iter()
        .copied()
        .filter(|other| {
            let other_lower = other.to_lowercase();
            other_lower.contains(&lower) || lower.contains(&other_lower)
        })
        .collect();
    if let Some(typo) = taskonomy_spec::closest_match(name, others.iter().copied()) {
        if !similar.contains(&typo) {
            similar.insert(0, typo);
        }
    }
    match similar.as_slice() {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        several => {
            let quoted: Vec<String> = several.iter().map(|s| format!("`{s}`")).collect();
            format!("; similar tasks of this dictionary: {}", quoted.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn check_tokens(tokens: TokenStream) -> Result<CheckedDictionary, Vec<String>> {
        let input: DictionaryInput = syn::parse2(tokens).expect("syntax");
        let mut errors = Errors::new();
        let checked = check(&input, &mut errors);
        match errors.finish() {
            Ok(()) => Ok(checked.expect("no errors but no dictionary")),
            Err(e) => Err(e.into_iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn tasks_are_sources_then_new_targets() {
        let dictionary = check_tokens(quote! {
            /// Doc.
            pub D { sources: [A, b::B], targets: [C, A] }
        })
        .unwrap();
        let variants: Vec<String> = dictionary
            .tasks
            .iter()
            .map(|(v, _)| v.to_string())
            .collect();
        assert_eq!(variants, ["A", "B", "C"]);
        assert_eq!(dictionary.sources, [0, 1]);
        assert_eq!(dictionary.targets, [2, 0]);
    }

    #[test]
    fn repeated_entries_point_at_the_second() {
        let errors = check_tokens(quote!(D {
            sources: [A, B, A],
            targets: [A]
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            ["`A` is already in `sources` (entry 1); list each task once"]
        );
    }

    #[test]
    fn lists_must_exist_and_hold_tasks() {
        let errors = check_tokens(quote!(D {
            sources: [A],
            targets: []
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            ["`targets` is empty: a dictionary needs at least one task here"]
        );
        let errors = check_tokens(quote!(D {
            sources: [A],
            target: [A]
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "unknown list `target`; did you mean `targets`?",
                "dictionary `D` needs a `targets: [...]` list",
            ]
        );
        let errors = check_tokens(quote!(D {
            sources: [A],
            sources: [B],
            targets: [A]
        }))
        .unwrap_err();
        assert_eq!(errors, ["`sources` is given twice"]);
    }

    #[test]
    fn similar_entries_are_suggested() {
        let entries: Vec<String> = ["Depth", "SurfaceNormals", "Normals", "Edges3D"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            similar_names("Normals", &entries),
            "; did you mean `SurfaceNormals`?"
        );
        assert_eq!(similar_names("Dept", &entries), "; did you mean `Depth`?");
        assert_eq!(similar_names("Material", &entries), "");
        let edges: Vec<String> = ["Edges2D", "Edges3D", "Edges"].map(String::from).to_vec();
        assert_eq!(
            similar_names("Edges", &edges),
            "; similar tasks of this dictionary: `Edges2D`, `Edges3D`"
        );
    }

    #[test]
    fn paths_are_seen_from_the_hidden_module() {
        let path =
            |tokens: TokenStream| from_child_module(&syn::parse2(tokens).unwrap()).to_string();
        assert_eq!(path(quote!(Depth)), "Depth");
        assert_eq!(path(quote!(self::Depth)), "super :: Depth");
        assert_eq!(
            path(quote!(super::tasks::Depth)),
            "super :: super :: tasks :: Depth"
        );
        assert_eq!(
            path(quote!(::taskonomy::tasks::Depth)),
            ":: taskonomy :: tasks :: Depth"
        );
    }

    #[test]
    fn two_paths_to_one_type_name_are_ambiguous() {
        let errors = check_tokens(quote!(D {
            sources: [a::Depth],
            targets: [b::Depth]
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            ["`b::Depth` and `a::Depth` would both be the dictionary's task `Depth`: write one type the same way everywhere, or import one of two different types under another name (`use ... as ...;`)"]
        );
    }
}
