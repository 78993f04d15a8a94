//! Properties over random sequences of facts and user actions.
