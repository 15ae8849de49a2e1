//! The README is part of the contract: its error table lists exactly the catalogue, with the right
//! kind, and it shows the two commands.

use loadshed_core::errors::ErrorName;

const README: &str = include_str!("../README.md");

#[test]
fn the_error_table_matches_the_catalogue() {
    let rows: Vec<(&str, &str)> = README
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", name, kind, _, ""] if matches!(*kind, "transient" | "permanent") => {
                    Some((name.trim_matches('`'), *kind))
                }
                _ => None,
            }
        })
        .collect();
    assert_eq!(rows.len(), ErrorName::ALL.len(), "README rows: {rows:?}");
    for name in ErrorName::ALL {
        let kind = if name.is_transient() {
            "transient"
        } else {
            "permanent"
        };
        assert!(
            rows.contains(&(name.as_str(), kind)),
            "README lacks `{name}` as {kind}"
        );
    }
}

#[test]
fn the_two_commands_are_documented() {
    assert!(README.contains("make run"));
    assert!(README.contains("make test"));
}
