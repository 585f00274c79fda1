//! The web interface's library side (`htrac-serve`), behind the `serve` feature.

pub mod passkey;
