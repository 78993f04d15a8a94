//! Test harness for Cairn end-to-end tests: real servers on loopback.
