//! Adapters: the ports implemented for real services and for tests.

pub mod telegram;
