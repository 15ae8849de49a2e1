//! loadshed's command-line side: the local runner of the refresh workflow (shared by the CLI and the
//! end-to-end tests).

pub mod local;
pub mod serve;
pub mod simulate;
