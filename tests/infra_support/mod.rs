//! Reading the SAM template and checking it against the code: shared by `tests/infra_template.rs`.

pub mod binaries;
pub mod pattern;
pub mod template;
