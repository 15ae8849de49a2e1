//! Amazon States Language: validate and execute AWS Step Functions definitions offline.
//!
//! This crate knows nothing of loadshed; it is a generic, async ASL toolkit.

pub mod intrinsic;
pub mod path;
pub mod validate;
