//! Safety invariants checked by tests and the simulator after every step.
