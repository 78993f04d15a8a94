//! Stateright model and deterministic simulator driving cairn-core.
