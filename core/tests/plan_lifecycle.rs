//! Schedule, naming and retention together: a session firing under a jumpy clock, with
//! retention applied after every backup, keeps a bounded, never-empty repository.

use std::collections::BTreeSet;

use cairn_core::plan::naming::{backup_session_name, snapshot_name};
use cairn_core::plan::{
    plan_retention, Candidate, CandidatePhase, KeepPolicy, RetentionPeriod, Schedule,
};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

fn policy() -> KeepPolicy {
    KeepPolicy {
        last: 3,
        daily: 2,
        failed_last: 1,
        max_retention_period: Some(RetentionPeriod::parse("2d").unwrap()),
        ..KeepPolicy::default()
    }
}

proptest! {
    #[test]
    fn repository_stays_bounded_and_restorable(
        spec in prop_oneof![Just("@every 1h"), Just("@every 30s"), Just("*/20 * * * *"), Just("CRON_TZ=Europe/Berlin 0 */6 * * *")],
        steps in proptest::collection::vec((-3600i64..14_400, any::<bool>()), 1..120),
    ) {
        let start: DateTime<Utc> = "2026-03-27T00:00:00Z".parse().unwrap();
        let schedule = Schedule::parse(spec).unwrap().anchored_at(start);
        let policy = policy();
        let mut now = start;
        let mut last_fired = Some(start);
        let mut repo: Vec<Candidate> = Vec::new();
        let mut deleted: BTreeSet<String> = BTreeSet::new();
        let mut ever_succeeded = false;
        for (step, succeeded) in steps {
            now += Duration::seconds(step);
            let Some(slot) = schedule.due(last_fired, now, None) else { continue };
            last_fired = Some(slot);
            let session = backup_session_name("sample-sdb-backup", "frequent-backup", slot.timestamp());
            let name = snapshot_name("gcs-sdb-repo", &session);
            prop_assert!(name.len() <= 63);
            prop_assert!(!deleted.contains(&name), "{} fired twice", name);
            prop_assert!(repo.iter().all(|c| c.name != name), "{} fired twice", name);
            let phase = if succeeded { CandidatePhase::Succeeded } else { CandidatePhase::Failed };
            ever_succeeded |= succeeded;
            repo.push(Candidate { name, time: slot, phase });

            let plan = plan_retention(&repo, &policy, now);
            let gone: BTreeSet<String> = plan.to_delete().map(str::to_owned).collect();
            repo.retain(|c| !gone.contains(&c.name));
            deleted.extend(gone);

            let successes = repo.iter().filter(|c| c.phase == CandidatePhase::Succeeded).count();
            let failures = repo.len() - successes;
            prop_assert!(!ever_succeeded || successes >= 1);
            prop_assert!(successes <= 5, "{} successes kept", successes);
            prop_assert!(failures <= 1, "{} failures kept", failures);
            // Retention is stable: planning again right away deletes nothing.
            prop_assert_eq!(plan_retention(&repo, &policy, now).to_delete().count(), 0);
        }
    }
}
