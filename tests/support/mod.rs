//! Shared by the root package's integration tests.
#![allow(dead_code)] // Each test binary uses its own part.

pub mod runtime_api;
