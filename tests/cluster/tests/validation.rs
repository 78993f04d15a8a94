//! Built-in validation the operator depends on: CronJob schedules (TZ refused, `@every`
//! accepted), events.k8s.io/v1 required fields, Job defaults, Service clusterIP, 409/404 bodies.

mod support;

use serde_json::json;
use support::Cluster;

fn cronjob(schedule: &str) -> serde_json::Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "cj", "namespace": "default"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1"}]}}}}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_events_and_status_bodies() {
    let c = Cluster::start();
    let path = "/apis/batch/v1/namespaces/default/cronjobs";
    let (code, body) = c
        .raw("POST", path, Some(cronjob("CRON_TZ=UTC 0 * * * *")))
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(
        body["message"],
        "CronJob.batch \"cj\" is invalid: spec.schedule: Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    );
    assert_eq!(body["details"]["causes"][0]["field"], "spec.schedule");
    let (code, body) = c.raw("POST", path, Some(cronjob("61 * * * *"))).await;
    assert_eq!(code, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("end of range (61) above maximum (59): 61"),
        "{body}"
    );
    let (code, body) = c.raw("POST", path, Some(cronjob("@every 5s"))).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"]["concurrencyPolicy"], "Allow");

    // 409 AlreadyExists and 404 NotFound bodies.
    let (code, body) = c.raw("POST", path, Some(cronjob("@every 5s"))).await;
    assert_eq!(code, 409);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "cronjobs.batch \"cj\" already exists", "reason": "AlreadyExists",
        "details": {"name": "cj", "group": "batch", "kind": "cronjobs"}, "code": 409})
    );
    let (code, body) = c
        .raw("GET", "/apis/batch/v1/namespaces/default/jobs/nope", None)
        .await;
    assert_eq!(
        (code, body["message"].as_str()),
        (404, Some("jobs.batch \"nope\" not found"))
    );

    // events.k8s.io/v1 requires eventTime, reportingController, reportingInstance, action, reason.
    let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "default"},
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"}, "type": "Normal", "note": "hi"});
    let (code, body) = c
        .raw(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            Some(ev.clone()),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "Event.events.k8s.io \"e1\" is invalid: eventTime: Required value"
    );
    let mut ok = ev;
    ok["eventTime"] = json!("2026-01-01T00:00:00.000000Z");
    let (code, body) = c
        .raw(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            Some(ok.clone()),
        )
        .await;
    assert_eq!(code, 422);
    let msg = body["message"].as_str().unwrap_or("");
    for f in [
        "reportingController: Required value",
        "reportingInstance: Required value",
        "action: Required value",
        "reason: Required value",
    ] {
        assert!(msg.contains(f), "{msg}");
    }
    ok["reportingController"] = json!("cairn.dev/operator");
    ok["reportingInstance"] = json!("op-1");
    ok["action"] = json!("Backup");
    ok["reason"] = json!("Started");
    let (code, body) = c
        .raw(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            Some(ok),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["note"], "hi");
    // One storage, two APIs: the core/v1 view of the same Event.
    let (code, core) = c
        .raw("GET", "/api/v1/namespaces/default/events/e1", None)
        .await;
    assert_eq!(code, 200, "{core}");
    assert_eq!(
        (
            core["message"].as_str(),
            core["reportingComponent"].as_str()
        ),
        (Some("hi"), Some("cairn.dev/operator"))
    );
    assert_eq!(core["involvedObject"]["name"], "p");
    let events = c.kubectl_ok(&["get", "events", "-n", "default"]);
    assert!(events.contains("Started"), "{events}");

    // Label values: at most 63 characters.
    let long = "x".repeat(64);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l", "labels": {"a": long}}});
    let (code, body) = c
        .raw("POST", "/api/v1/namespaces/default/configmaps", Some(cm))
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("metadata.labels: Invalid value: \"xxxx"),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("must be no more than 63 characters"),
        "{body}"
    );

    // Jobs get the controller-uid selector and labels; Services a clusterIP.
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "busybox:1"}]}}}});
    let (code, body) = c
        .raw(
            "POST",
            "/apis/batch/v1/namespaces/default/jobs",
            Some(job.clone()),
        )
        .await;
    assert_eq!(code, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\""),
        "{body}"
    );
    let mut job = job;
    job["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    let (code, body) = c
        .raw("POST", "/apis/batch/v1/namespaces/default/jobs", Some(job))
        .await;
    assert_eq!(code, 201, "{body}");
    let uid = body["metadata"]["uid"].clone();
    assert_eq!(
        body["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
        uid
    );
    assert_eq!(
        body["spec"]["template"]["metadata"]["labels"]["job-name"],
        "j"
    );
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
    let (_, body) = c
        .raw("POST", "/api/v1/namespaces/default/services", Some(svc))
        .await;
    assert_eq!(body["spec"]["clusterIP"], "127.0.0.1");
    assert_eq!(body["spec"]["ports"][0]["targetPort"], 80);
}
