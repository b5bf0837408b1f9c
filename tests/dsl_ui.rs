//! The DSL's compile-time checks, as a user meets them: each file under `tests/ui/fail` is one mistake,
//! and its `.stderr` is the reviewed message. Files under `tests/ui/pass` must compile and run.

#[test]
fn dsl_declarations() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
