//! The CronJob controller: `@every` schedules create Jobs that complete.

mod controllers_harness;

use controllers_harness::Cluster;

#[test]
fn an_every_3s_cronjob_creates_jobs_that_complete() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "@every 3s"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata: {labels: {app: tick}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: main, image: test.cairn.dev/host, command: [/bin/echo, tick]}
"#,
    );
    // lastSuccessfulTime appears once a Job of the CronJob completed.
    c.wait("cronjob/tick", "jsonpath={.status.lastSuccessfulTime}", 60);
    let job = c.jsonpath("jobs", "{.items[0].metadata.name}");
    // Upstream naming: <cronjob>-<scheduled time in minutes since the epoch>.
    let minutes: i64 = job
        .strip_prefix("tick-")
        .expect("job name")
        .parse()
        .expect("minutes");
    let scheduled = c.jsonpath(
        &format!("job/{job}"),
        "{.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}",
    );
    let at = chrono::DateTime::parse_from_rfc3339(&scheduled).expect("rfc3339 timestamp");
    assert_eq!(at.timestamp() / 60, minutes);
    assert_eq!(
        c.jsonpath(&format!("job/{job}"), "{.metadata.ownerReferences[0].kind}"),
        "CronJob"
    );
    assert_eq!(
        c.jsonpath(&format!("job/{job}"), "{.metadata.labels.app}"),
        "tick"
    );
    assert_eq!(c.ok(&["logs", &format!("job/{job}")]).trim(), "tick");
    assert!(!c
        .jsonpath("cronjob/tick", "{.status.lastScheduleTime}")
        .is_empty());
}

#[test]
fn a_suspended_cronjob_creates_nothing() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: paused}
spec:
  schedule: "@every 1s"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: main, image: test.cairn.dev/host, command: [/bin/true]}
"#,
    );
    // A separate Job, created after the CronJob, completes: the controllers have run
    // since, and the CronJob created nothing meanwhile.
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: marker}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: test.cairn.dev/host, command: [/bin/sleep, "2"]}
"#,
    );
    c.wait("job/marker", "condition=Complete", 60);
    assert_eq!(c.jsonpath("jobs", "{.items[*].metadata.name}"), "marker");
}
