//! Collecting compile errors instead of stopping at the first.

use std::fmt::Display;

use quote::ToTokens;

/// Gathers every error found while checking a declaration, so the user sees all of them in one compile,
/// each at its own token.
///
/// It must be consumed by [`Errors::finish`]: dropping it unfinished is a bug in this crate (an error
/// could be lost), so it panics, and the test suite would catch it.
pub(crate) struct Errors {
    found: Option<Vec<syn::Error>>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Errors {
            found: Some(Vec::new()),
        }
    }

    /// Records an error spanning `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an already built error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.found
            .as_mut()
            .expect("errors used after finish")
            .push(error);
    }

    /// All errors as one, or `Ok` if there were none.
    pub(crate) fn finish(mut self) -> Result<(), syn::Error> {
        let mut found = self.found.take().expect("finish called twice").into_iter();
        match found.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(found);
                Err(first)
            }
        }
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if self.found.is_some() && !std::thread::panicking() {
            panic!("Errors dropped without finish(): a compile error would have been lost");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn no_errors_finish_ok() {
        assert!(Errors::new().finish().is_ok());
    }

    #[test]
    fn every_error_is_kept() {
        let mut errors = Errors::new();
        errors.at(Span::call_site(), "first");
        errors.at(Span::call_site(), "second");
        let combined = errors.finish().unwrap_err();
        let messages: Vec<String> = combined.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    #[should_panic(expected = "without finish")]
    fn dropping_unfinished_errors_is_a_bug() {
        let _errors = Errors::new();
    }
}
