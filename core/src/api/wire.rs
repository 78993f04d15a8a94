//! Serde predicates reproducing Go's `omitempty`, so a manifest written by KubeStash
//! survives a parse/serialise round trip without gaining zero-valued fields.

/// True for `false`: Go omits a zero `bool` tagged `omitempty`.
pub fn is_false(value: &bool) -> bool {
    !*value
}

/// True for `0`: Go omits a zero `int32` tagged `omitempty`.
pub fn is_zero_i32(value: &i32) -> bool {
    *value == 0
}

/// True for `0`: Go omits a zero `int64` tagged `omitempty`.
pub fn is_zero_i64(value: &i64) -> bool {
    *value == 0
}

/// True for `0.0`: Go omits a zero `float64` tagged `omitempty`.
pub fn is_zero_f64(value: &f64) -> bool {
    *value == 0.0
}
