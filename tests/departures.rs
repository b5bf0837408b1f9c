//! The README lists every departure from the paper exactly as the reports do.

#[test]
fn the_readme_lists_every_departure_from_the_paper() {
    let readme = include_str!("../README.md");
    let expected = taskonomy::departures::markdown();
    assert!(
        readme.contains(&expected),
        "README.md's \"Departures from the paper\" should read, line for line:\n\n{expected}"
    );
}
