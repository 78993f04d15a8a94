//! Structural schemas of CRDs: pruning, defaulting, validation.

pub mod structural;
