//! Retention: Cairn's [`KeepPolicy`] as rustic_core's `KeepOptions`.

use rustic_core::KeepOptions;

use crate::error::{Error, Result};
use crate::reports::KeepPolicy;

/// rustic keep options; refuses a policy that keeps nothing.
pub(crate) fn keep_options(keep: &KeepPolicy) -> Result<KeepOptions> {
    let n = |v: Option<u32>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
    if [
        keep.last,
        keep.hourly,
        keep.daily,
        keep.weekly,
        keep.monthly,
        keep.yearly,
    ]
    .iter()
    .all(Option::is_none)
    {
        return Err(Error::InvalidPolicy {
            reason: "no keep rule given: set at least one of last, hourly, daily, weekly, monthly, yearly".into(),
        });
    }
    Ok(KeepOptions::default()
        .keep_last(n(keep.last))
        .keep_hourly(n(keep.hourly))
        .keep_daily(n(keep.daily))
        .keep_weekly(n(keep.weekly))
        .keep_monthly(n(keep.monthly))
        .keep_yearly(n(keep.yearly)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy_is_refused_and_counts_are_mapped() {
        let err = keep_options(&KeepPolicy::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no keep rule given"), "{err}");
        let opts = keep_options(&KeepPolicy {
            last: Some(5),
            daily: Some(7),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (opts.keep_last, opts.keep_daily, opts.keep_weekly),
            (Some(5), Some(7), None)
        );
    }
}
