use super::*;
use chrono::Duration;
use proptest::prelude::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn sched(s: &str) -> Schedule {
    Schedule::parse(s).unwrap()
}

#[test]
fn cron_next_after_table() {
    for (spec, t, want) in [
        (
            "*/5 * * * *",
            "2026-11-20T12:00:00Z",
            "2026-11-20T12:05:00Z",
        ),
        (
            "*/5 * * * *",
            "2026-11-20T12:04:59.999Z",
            "2026-11-20T12:05:00Z",
        ),
        (
            "*/5 * * * *",
            "2026-11-20T12:05:00.000000001Z",
            "2026-11-20T12:10:00Z",
        ),
        ("@hourly", "2026-11-20T12:00:00Z", "2026-11-20T13:00:00Z"),
        ("@daily", "2026-11-20T12:00:00Z", "2026-11-21T00:00:00Z"),
        ("@midnight", "2026-11-20T12:00:00Z", "2026-11-21T00:00:00Z"),
        ("@weekly", "2026-11-20T12:00:00Z", "2026-11-22T00:00:00Z"),
        ("@monthly", "2026-11-20T12:00:00Z", "2026-12-01T00:00:00Z"),
        ("@yearly", "2026-11-20T12:00:00Z", "2027-01-01T00:00:00Z"),
        ("@annually", "2026-11-20T12:00:00Z", "2027-01-01T00:00:00Z"),
        (
            "5/15 * * * *",
            "2026-11-20T12:06:00Z",
            "2026-11-20T12:20:00Z",
        ),
        ("0 0 29 2 *", "2026-11-20T12:00:00Z", "2028-02-29T00:00:00Z"),
        // Berlin is UTC+1 in November.
        (
            "CRON_TZ=Europe/Berlin 0 3 * * *",
            "2026-11-20T12:00:00Z",
            "2026-11-21T02:00:00Z",
        ),
        (
            "TZ=Europe/Berlin 0 3 * * *",
            "2026-11-20T12:00:00Z",
            "2026-11-21T02:00:00Z",
        ),
        ("@every 30s", "2026-11-20T12:00:10Z", "2026-11-20T12:00:30Z"),
        (
            "@every 1h30m",
            "1970-01-01T01:00:00Z",
            "1970-01-01T01:30:00Z",
        ),
    ] {
        assert_eq!(
            sched(spec).next_after(at(t)),
            Some(at(want)),
            "{spec} after {t}"
        );
    }
}

#[test]
fn dst_in_berlin() {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 2026-10-25: 03:00 CEST falls back to 02:00 CET.
    let every_half_hour = sched("CRON_TZ=Europe/Berlin */30 * * * *");
    let spring =
        every_half_hour.slots_between(at("2026-03-29T00:00:00Z"), at("2026-03-29T01:30:00Z"), 10);
    assert_eq!(
        spring,
        [
            at("2026-03-29T00:30:00Z"),
            at("2026-03-29T01:00:00Z"),
            at("2026-03-29T01:30:00Z")
        ]
    );
    let autumn =
        every_half_hour.slots_between(at("2026-10-25T00:00:00Z"), at("2026-10-25T01:30:00Z"), 10);
    // The repeated hour 02:00–03:00 local is walked twice: every instant is a slot.
    assert_eq!(
        autumn,
        [
            at("2026-10-25T00:30:00Z"),
            at("2026-10-25T01:00:00Z"),
            at("2026-10-25T01:30:00Z")
        ]
    );
}

#[test]
fn time_zone_argument() {
    let s = sched("0 3 * * *").with_time_zone("Europe/Berlin").unwrap();
    assert_eq!(
        s.next_after(at("2026-11-20T12:00:00Z")),
        Some(at("2026-11-21T02:00:00Z"))
    );
    assert!(sched("CRON_TZ=Europe/Berlin 0 3 * * *")
        .with_time_zone("Europe/Berlin")
        .is_ok());
    assert!(matches!(
        sched("CRON_TZ=Europe/Berlin 0 3 * * *").with_time_zone("Asia/Tokyo"),
        Err(ScheduleError::TimeZoneConflict { .. })
    ));
    assert!(sched("@every 1m").with_time_zone("Asia/Tokyo").is_ok());
    assert!(sched("0 3 * * *").with_time_zone("Mars/Olympus").is_err());
}

#[test]
fn parse_errors_table() {
    for (input, want) in [
        ("", "invalid schedule \"\": empty, expected e.g. \"*/5 * * * *\", \"@daily\" or \"@every 30s\""),
        ("* * * *", "invalid schedule \"* * * *\": expected 5 cron fields (minute hour day-of-month month day-of-week), found 4"),
        ("0 * * * * *", "invalid schedule \"0 * * * * *\": expected 5 cron fields (minute hour day-of-month month day-of-week), found 6"),
        ("@often", "invalid schedule \"@often\": unknown descriptor, expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>"),
        ("@every 0s", "invalid schedule \"@every 0s\": @every needs a positive duration such as 30s or 1h30m"),
        ("@every -5s", "invalid schedule \"@every -5s\": @every needs a positive duration such as 30s or 1h30m"),
        ("@every soon", "invalid schedule \"@every soon\": @every needs a positive duration such as 30s or 1h30m"),
        ("@every30s", "invalid schedule \"@every30s\": @every needs a positive duration such as 30s or 1h30m"),
        ("CRON_TZ=Nowhere/City * * * * *", "invalid schedule \"CRON_TZ=Nowhere/City * * * * *\": unknown time zone \"Nowhere/City\", expected an IANA name such as Europe/Berlin"),
        ("CRON_TZ=UTC", "invalid schedule \"CRON_TZ=UTC\": empty, expected e.g. \"*/5 * * * *\", \"@daily\" or \"@every 30s\""),
    ] {
        assert_eq!(Schedule::parse(input).unwrap_err().to_string(), want, "{input}");
    }
    assert!(matches!(
        Schedule::parse("61 * * * *"),
        Err(ScheduleError::InvalidCron { .. })
    ));
}

#[test]
fn every_is_anchored() {
    let s = sched("@every 30s").anchored_at(at("2026-11-20T12:00:07Z"));
    assert_eq!(
        s.next_after(at("2026-11-20T12:00:10Z")),
        Some(at("2026-11-20T12:00:37Z"))
    );
    assert_eq!(
        s.latest_at_or_before(at("2026-11-20T11:59:59Z")),
        Some(at("2026-11-20T11:59:37Z"))
    );
    assert_eq!(s.to_string(), "@every 30s");
}

#[test]
fn due_fires_once_and_only_the_latest_missed_slot() {
    let s = sched("*/5 * * * *");
    let created = at("2026-11-20T12:01:00Z");
    assert_eq!(s.due(Some(created), at("2026-11-20T12:04:00Z"), None), None);
    // Clock jumps forward 20 minutes: one run, for the latest slot only.
    let fired = s.due(Some(created), at("2026-11-20T12:21:00Z"), None);
    assert_eq!(fired, Some(at("2026-11-20T12:20:00Z")));
    assert_eq!(s.due(fired, at("2026-11-20T12:21:00Z"), None), None);
    // Clock goes back: nothing until it passes the fired slot's successor.
    assert_eq!(s.due(fired, at("2026-11-20T12:07:00Z"), None), None);
    assert_eq!(
        s.due(fired, at("2026-11-20T12:25:00Z"), None),
        Some(at("2026-11-20T12:25:00Z"))
    );
    // Starting deadline: a slot older than now - deadline is missed, not run late.
    let deadline = Some(Duration::seconds(60));
    assert_eq!(s.due(fired, at("2026-11-20T12:26:30Z"), deadline), None);
    assert_eq!(
        s.due(fired, at("2026-11-20T12:25:59Z"), deadline),
        Some(at("2026-11-20T12:25:00Z"))
    );
    // Never fired: the latest slot, unless the deadline excludes it.
    assert_eq!(
        s.due(None, at("2026-11-20T12:21:00Z"), None),
        Some(at("2026-11-20T12:20:00Z"))
    );
    assert_eq!(
        s.due(
            None,
            at("2026-11-20T12:21:00Z"),
            Some(Duration::seconds(30))
        ),
        None
    );
}

fn schedules() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        Just("*/5 * * * *"),
        Just("0 * * * *"),
        Just("@daily"),
        Just("@weekly"),
        Just("17 3 1 * *"),
        Just("0 9-17 * * 1-5"),
        Just("CRON_TZ=Europe/Berlin 30 2 * * *"),
        Just("CRON_TZ=America/New_York 0,30 1 * * *"),
        Just("CRON_TZ=Australia/Lord_Howe */20 * * * *"),
        Just("@every 30s"),
        Just("@every 7s"),
        Just("@every 1h30m"),
        Just("@every 1.5s"),
    ]
    .prop_map(sched)
}

fn times() -> impl Strategy<Value = DateTime<Utc>> {
    // 2000-01-01 .. 2100-01-01, with sub-second parts.
    (946_684_800i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).unwrap())
}

proptest! {
    #[test]
    fn next_after_is_strictly_later_and_a_slot(s in schedules(), t in times()) {
        let next = s.next_after(t).unwrap();
        prop_assert!(next > t);
        prop_assert_eq!(s.latest_at_or_before(next), Some(next));
        let prev = s.latest_at_or_before(t).unwrap();
        prop_assert!(prev <= t);
        // Nothing lies strictly between the two neighbours of t.
        prop_assert_eq!(s.next_after(prev), Some(next));
    }

    #[test]
    fn slots_are_strictly_increasing_and_in_range(s in schedules(), a in times(), minutes in 0i64..3000) {
        let b = a + Duration::minutes(minutes);
        let slots = s.slots_between(a, b, 50);
        prop_assert!(slots.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(slots.iter().all(|x| a < *x && *x <= b));
        if slots.len() < 50 {
            prop_assert_eq!(s.due(Some(a), b, None), slots.last().copied());
        }
    }

    #[test]
    fn clock_jumps_never_double_fire(
        s in schedules(),
        start in times(),
        steps in proptest::collection::vec(-7200i64..7200, 1..40),
        deadline in proptest::option::of(1i64..600),
    ) {
        let deadline = deadline.map(Duration::seconds);
        let mut now = start;
        let mut last = Some(start);
        let mut fired: Vec<DateTime<Utc>> = Vec::new();
        for step in steps {
            now += Duration::seconds(step);
            if let Some(slot) = s.due(last, now, deadline) {
                prop_assert!(slot <= now);
                prop_assert!(last.is_none_or(|l| slot > l));
                fired.push(slot);
                last = Some(slot);
                // Asking again at the same instant never yields a second run.
                prop_assert_eq!(s.due(last, now, deadline), None);
            } else if deadline.is_none() {
                // Without a deadline, "not due" means no slot in (last, now].
                prop_assert!(s.slots_between(last.unwrap(), now, 1).is_empty());
            }
        }
        prop_assert!(fired.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn parse_never_panics(text in "[0-9*/,@a-zA-Z =_-]{0,30}") {
        let _ = Schedule::parse(&text);
    }
}

#[test]
fn fixed_time_jobs_across_dst() {
    // Spring forward: 02:30 does not exist in Berlin on 2026-03-29.
    let berlin = sched("CRON_TZ=Europe/Berlin 30 2 * * *");
    let spring = berlin.slots_between(at("2026-03-28T00:00:00Z"), at("2026-03-31T00:00:00Z"), 10);
    // Fall back: 01:00 happens twice in New York on 2026-11-01; a fixed-time job runs once.
    let new_york = sched("CRON_TZ=America/New_York 0 1 * * *");
    let autumn = new_york.slots_between(at("2026-10-31T00:00:00Z"), at("2026-11-03T00:00:00Z"), 10);
    insta::assert_snapshot!(
        "fixed_time_jobs_across_dst",
        format!("spring {spring:?}\nautumn {autumn:?}")
    );
}

#[test]
fn a_time_zone_prefix_becomes_the_cron_jobs_time_zone() {
    assert_eq!(
        cron_job_schedule("CRON_TZ=Europe/Berlin 0 3 * * *"),
        ("0 3 * * *", Some("Europe/Berlin"))
    );
    assert_eq!(
        cron_job_schedule("TZ=Asia/Tokyo */5 * * * *"),
        ("*/5 * * * *", Some("Asia/Tokyo"))
    );
    assert_eq!(cron_job_schedule("@every 5s"), ("@every 5s", None));
}
