//! Pure planners: retention, schedules, durations, sizes and naming rules.
