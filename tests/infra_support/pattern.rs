//! The stream filter matcher is the local system's own (`loadshed::local::filter`), so the template
//! test and the local event source mappings judge records the same way.

pub use loadshed::local::filter::matches;
