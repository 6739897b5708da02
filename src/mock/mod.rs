//! The in-process HTTP mock server (placeholder).
