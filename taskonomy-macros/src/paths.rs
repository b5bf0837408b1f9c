//! The path under which generated code finds the runtime.

use proc_macro2::{Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};
use quote::quote;

/// The path of the crate that holds `spec::Task`: the `taskonomy` facade if the calling crate depends on
/// it (under whatever name it was renamed to), else `taskonomy-core`.
///
/// Both crates declare `extern crate self as ...;`, so the path also works in their own tests and examples.
pub(crate) fn runtime() -> TokenStream {
    let found = crate_name("taskonomy")
        .map(|found| (found, "taskonomy"))
        .or_else(|_| crate_name("taskonomy-core").map(|found| (found, "taskonomy_core")));
    let name = match found {
        Ok((FoundCrate::Name(renamed), _)) => renamed,
        Ok((FoundCrate::Itself, own_name)) => own_name.to_string(),
        // Not found through Cargo metadata (e.g. built outside Cargo): assume the facade.
        Err(_) => "taskonomy".to_string(),
    };
    let ident = syn::Ident::new(&name, Span::call_site());
    quote!(::#ident)
}
