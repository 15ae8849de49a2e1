//! The documentation is part of the contract: the README stays a short page a newcomer can read, shows
//! the two commands and links every page of docs/; the error table of docs/errors.md lists exactly the
//! catalogue, with the right kind; and no relative link in the README or docs/ points at nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::path::{Path, PathBuf};

use loadshed_core::errors::ErrorName;

const README: &str = include_str!("../README.md");
const ERRORS_PAGE: &str = include_str!("../docs/errors.md");
const README_MAX_LINES: usize = 250;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown pages of docs/, sorted, as paths relative to the repository root (`docs/x.md`).
fn docs_pages() -> Vec<String> {
    let entries = std::fs::read_dir(root().join("docs")).expect("docs/ is readable");
    let mut pages: Vec<String> = entries
        .map(|entry| {
            entry
                .expect("a docs/ entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    pages
}

/// The targets of the inline links `[text](target)` of a Markdown text, code spans and blocks included
/// (a link is a link wherever it is written).
fn link_targets(markdown: &str) -> Vec<&str> {
    markdown
        .match_indices("](")
        .filter_map(|(at, opener)| {
            let rest = &markdown[at + opener.len()..];
            rest.find(')').map(|end| rest[..end].trim())
        })
        .collect()
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

#[test]
fn the_error_table_matches_the_catalogue() {
    let rows: Vec<(&str, &str)> = ERRORS_PAGE
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
    assert_eq!(
        rows.len(),
        ErrorName::ALL.len(),
        "docs/errors.md rows: {rows:?}"
    );
    for name in ErrorName::ALL {
        let kind = if name.is_transient() {
            "transient"
        } else {
            "permanent"
        };
        assert!(
            rows.contains(&(name.as_str(), kind)),
            "docs/errors.md lacks `{name}` as {kind}"
        );
    }
}

#[test]
fn the_two_commands_are_documented() {
    assert!(README.contains("make run"));
    assert!(README.contains("make test"));
}

#[test]
fn the_readme_is_short() {
    let lines = README.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, at most {README_MAX_LINES}: move detail to a page of docs/"
    );
}

#[test]
fn every_docs_page_is_linked_from_the_readme() {
    let targets = link_targets(README);
    let pages = docs_pages();
    assert!(
        pages.contains(&"docs/errors.md".to_owned()),
        "docs/ pages: {pages:?}"
    );
    for page in pages {
        assert!(
            targets.contains(&page.as_str()),
            "README.md does not link {page}"
        );
    }
}

#[test]
fn every_relative_link_points_at_an_existing_file() {
    let mut documents: Vec<(PathBuf, String)> = vec![(root().join("README.md"), README.to_owned())];
    for page in docs_pages() {
        let path = root().join(&page);
        let text = std::fs::read_to_string(&path).expect("a docs/ page is readable");
        documents.push((path, text));
    }
    for (path, text) in &documents {
        let folder = path.parent().expect("a document has a folder");
        for target in link_targets(text).into_iter().filter(|t| !is_external(t)) {
            // Anchors are not checked against headings, so links carry none: a renamed heading
            // would otherwise break them unnoticed.
            assert!(
                !target.contains('#'),
                "{}: link {target} has an anchor; link the page",
                path.display()
            );
            assert!(
                !target.is_empty() && folder.join(target).is_file(),
                "{}: link {target} points at no file",
                path.display()
            );
        }
    }
}

#[test]
fn the_link_reader_finds_inline_links_only() {
    let targets = link_targets("see [a](docs/a.md), [b]( ../b.md ) and <https://c>, not [c] (d)");
    assert_eq!(targets, ["docs/a.md", "../b.md"]);
}
