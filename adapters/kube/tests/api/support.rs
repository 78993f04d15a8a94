//! A fake API server behind kube's client (tower-test `mock::pair`, as kube-rs's
//! controller-rs `ApiServerVerifier`), fixtures, and helpers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cairn_kube::observe::Observed;
use chrono::{DateTime, Utc};
use http::{Request, Response};
use kube::client::Body;
use kube::Client;
use serde::Serialize;
use serde_json::{json, Value};

/// One request the operator sent.
#[derive(Clone, Debug, Serialize)]
pub struct Logged {
    pub method: String,
    pub path: String,
    #[serde(rename = "contentType")]
    pub content_type: String,
    pub body: Value,
}

/// A failure to inject: at request number `at` (0-based, counting all requests).
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this HTTP status.
    Status(u16),
    /// Flip the leader flag to false after answering.
    LoseLeader,
}

#[derive(Default)]
pub struct State {
    pub log: Vec<Logged>,
    /// Objects by path (no query, no `/status`).
    pub objects: BTreeMap<String, Value>,
    pub faults: BTreeMap<usize, Fault>,
    pub served: usize,
    pub rv: u64,
    /// Field manager of each top-level status field, by object path (server-side apply
    /// of `/status`, one level deep: enough for the operator's and the executor's shares).
    pub status_owners: BTreeMap<String, BTreeMap<String, String>>,
}

/// The fake server: its state, shared with the serving task.
#[derive(Clone)]
pub struct Fake {
    pub state: Arc<Mutex<State>>,
    pub leader: Arc<AtomicBool>,
}

impl Fake {
    /// A client wired to a new fake server, which serves until the client is dropped.
    pub fn start() -> (Client, Fake) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let fake = Fake {
            state: Arc::default(),
            leader: Arc::new(AtomicBool::new(true)),
        };
        let server = fake.clone();
        tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let response = server.serve(request).await;
                send.send_response(response);
            }
        });
        (Client::new(service, "default"), fake)
    }

    /// Takes the log of requests so far.
    pub fn take_log(&self) -> Vec<Logged> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }

    /// Injects a fault at request number `at` from now on.
    pub fn fault_in(&self, requests_from_now: usize, fault: Fault) {
        let mut st = self.state.lock().unwrap();
        let at = st.served + requests_from_now;
        st.faults.insert(at, fault);
    }

    /// Puts an object as a user (or kubelet, or executor) would.
    pub fn put(&self, object: Value) {
        let path = object_path(&object);
        let mut st = self.state.lock().unwrap();
        st.rv += 1;
        let mut object = object;
        object["metadata"]["resourceVersion"] = json!(st.rv.to_string());
        if object["metadata"]["uid"].is_null() {
            object["metadata"]["uid"] = json!(format!(
                "uid-{}",
                object["metadata"]["name"].as_str().unwrap()
            ));
        }
        if object["metadata"]["creationTimestamp"].is_null() {
            object["metadata"]["creationTimestamp"] = json!("2024-08-19T10:58:20Z");
        }
        st.objects.insert(path, object);
    }

    /// Edits a stored object.
    pub fn edit(&self, path: &str, f: impl FnOnce(&mut Value)) {
        let mut st = self.state.lock().unwrap();
        st.rv += 1;
        let rv = st.rv;
        let object = st
            .objects
            .get_mut(path)
            .unwrap_or_else(|| panic!("no object at {path}"));
        f(object);
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
    }

    /// Removes a stored object (as if deleted without finalizers).
    pub fn remove(&self, path: &str) {
        self.state.lock().unwrap().objects.remove(path);
    }

    /// A stored object.
    pub fn get(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    /// Paths of stored objects under `prefix`.
    pub fn paths(&self, prefix: &str) -> Vec<String> {
        let st = self.state.lock().unwrap();
        st.objects
            .keys()
            .filter(|p| p.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// What reflector stores would hold: every stored object, by kind.
    pub fn observed(&self) -> Observed {
        let st = self.state.lock().unwrap();
        let mut o = Observed::default();
        for obj in st.objects.values() {
            let v = obj.clone();
            fn p<T: serde::de::DeserializeOwned>(v: Value) -> T {
                serde_json::from_value(v).expect("stored object parses")
            }
            match obj["kind"].as_str().unwrap_or_default() {
                "BackupStorage" => o.backup_storages.push(p(v)),
                "Repository" => o.repositories.push(p(v)),
                "Snapshot" => o.snapshots.push(p(v)),
                "RetentionPolicy" => o.retention_policies.push(p(v)),
                "BackupConfiguration" => o.backup_configurations.push(p(v)),
                "BackupSession" => o.backup_sessions.push(p(v)),
                "RestoreSession" => o.restore_sessions.push(p(v)),
                "AppBinding" => o.app_bindings.push(p(v)),
                "Secret" => o.secrets.push(p(v)),
                "Job" => o.jobs.push(p(v)),
                "CronJob" => o.cron_jobs.push(p(v)),
                _ => {}
            }
        }
        o
    }

    async fn serve(&self, request: Request<Body>) -> Response<Body> {
        let method = request.method().to_string();
        let uri = request.uri().to_string();
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = request.into_body().collect_bytes().await.unwrap();
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        let mut st = self.state.lock().unwrap();
        st.log.push(Logged {
            method: method.clone(),
            path: uri.clone(),
            content_type: content_type.clone(),
            body: body.clone(),
        });
        let n = st.served;
        st.served += 1;
        match st.faults.remove(&n) {
            Some(Fault::Status(code)) => return status(code, "injected fault"),
            Some(Fault::LoseLeader) => self.leader.store(false, Ordering::SeqCst),
            None => {}
        }
        let path = uri.split('?').next().unwrap().to_owned();
        st.rv += 1;
        let rv = st.rv.to_string();
        match (method.as_str(), content_type.as_str()) {
            ("GET", _) => match st.objects.get(&path) {
                Some(object) => ok(object.clone()),
                None => status(404, "not found"),
            },
            ("PATCH", "application/apply-patch+yaml") if path.ends_with("/status") => {
                let base = path.trim_end_matches("/status").to_owned();
                let manager = uri
                    .split(['?', '&'])
                    .find_map(|q| q.strip_prefix("fieldManager="))
                    .unwrap_or_default()
                    .to_owned();
                let Some(mut object) = st.objects.get(&base).cloned() else {
                    return status(404, "not found");
                };
                let owners = st.status_owners.entry(base.clone()).or_default();
                let sent = body["status"].as_object().cloned().unwrap_or_default();
                let mut current = object["status"].as_object().cloned().unwrap_or_default();
                current.retain(|k, _| sent.contains_key(k) || owners.get(k) != Some(&manager));
                owners.retain(|k, m| sent.contains_key(k) || *m != manager);
                for (k, v) in sent {
                    owners.insert(k.clone(), manager.clone());
                    current.insert(k, v);
                }
                object["status"] = Value::Object(current);
                object["metadata"]["resourceVersion"] = json!(rv);
                st.objects.insert(base, object.clone());
                ok(object)
            }
            ("PATCH", "application/apply-patch+yaml") => {
                let mut object = st.objects.get(&path).cloned().unwrap_or_else(|| {
                    let mut fresh = body.clone();
                    fresh["metadata"]["uid"] = json!(format!(
                        "uid-{}",
                        body["metadata"]["name"].as_str().unwrap_or_default()
                    ));
                    fresh["metadata"]["creationTimestamp"] = json!("2024-08-19T10:58:20Z");
                    fresh
                });
                let status = object.get("status").cloned();
                cairn_kube::objects::merge(&mut object, &body);
                if let Some(s) = status {
                    object["status"] = s;
                }
                object["metadata"]["resourceVersion"] = json!(rv);
                st.objects.insert(path, object.clone());
                ok(object)
            }
            ("PATCH", "application/merge-patch+json") => {
                let base = path.trim_end_matches("/status").to_owned();
                let Some(object) = st.objects.get_mut(&base) else {
                    return status(404, "not found");
                };
                cairn_kube::objects::merge(object, &body);
                object["metadata"]["resourceVersion"] = json!(rv);
                ok(object.clone())
            }
            ("PATCH", "application/json-patch+json") => {
                let Some(object) = st.objects.get_mut(&path) else {
                    return status(404, "not found");
                };
                for op in body.as_array().unwrap() {
                    let p = op["path"].as_str().unwrap();
                    match op["op"].as_str().unwrap() {
                        "add" if p == "/metadata/finalizers" => {
                            object["metadata"]["finalizers"] = op["value"].clone()
                        }
                        "add" => object["metadata"]["finalizers"]
                            .as_array_mut()
                            .unwrap()
                            .push(op["value"].clone()),
                        "remove" => {
                            let i: usize = p.rsplit('/').next().unwrap().parse().unwrap();
                            object["metadata"]["finalizers"]
                                .as_array_mut()
                                .unwrap()
                                .remove(i);
                        }
                        _ => {}
                    }
                }
                object["metadata"]["resourceVersion"] = json!(rv);
                let object = object.clone();
                let released = object["metadata"]["deletionTimestamp"].is_string()
                    && object["metadata"]["finalizers"]
                        .as_array()
                        .is_none_or(Vec::is_empty);
                if released {
                    st.objects.remove(&path);
                }
                ok(object)
            }
            ("DELETE", _) => {
                let Some(object) = st.objects.get_mut(&path) else {
                    return status(404, "not found");
                };
                let held = object["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty());
                if held {
                    object["metadata"]["deletionTimestamp"] = json!("2024-08-19T12:00:00Z");
                    object["metadata"]["resourceVersion"] = json!(rv);
                    ok(object.clone())
                } else {
                    let object = st.objects.remove(&path).unwrap();
                    ok(object)
                }
            }
            ("POST", _) => {
                let mut object = body.clone();
                object["metadata"]["name"] = json!(format!(
                    "{}{}",
                    body["metadata"]["generateName"]
                        .as_str()
                        .unwrap_or_default(),
                    n
                ));
                ok(object)
            }
            _ => status(405, "unexpected request"),
        }
    }
}

fn ok(v: Value) -> Response<Body> {
    Response::builder()
        .status(200)
        .body(Body::from(serde_json::to_vec(&v).unwrap()))
        .unwrap()
}

fn status(code: u16, message: &str) -> Response<Body> {
    let body = json!({
        "apiVersion": "v1", "kind": "Status", "status": "Failure",
        "message": message, "reason": "Injected", "code": code,
    });
    Response::builder()
        .status(code)
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

/// Path of an object from its apiVersion, kind, namespace and name.
pub fn object_path(object: &Value) -> String {
    let api_version = object["apiVersion"].as_str().unwrap();
    let kind = object["kind"].as_str().unwrap();
    let plural = match kind {
        "Secret" => "secrets",
        "Job" => "jobs",
        "CronJob" => "cronjobs",
        other => cairn_core::api::Kind::ALL
            .into_iter()
            .find(|k| k.name() == other)
            .map(|k| k.plural())
            .unwrap(),
    };
    let base = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    let ns = object["metadata"]["namespace"].as_str().unwrap();
    let name = object["metadata"]["name"].as_str().unwrap();
    format!("{base}/namespaces/{ns}/{plural}/{name}")
}

/// Parses a time.
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A YAML manifest as JSON.
pub fn yaml(s: &str) -> Value {
    serde_yaml::from_str(s).unwrap()
}

pub fn secret(ns: &str, name: &str, data: &[(&str, &str)]) -> Value {
    let string_data: BTreeMap<_, _> = data
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "stringData": string_data})
}

pub const STORAGE: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: gcs-storage, namespace: demo}
spec:
  storage:
    provider: gcs
    gcs: {bucket: kubestash-qa, prefix: demo, secretName: gcs-secret}
  usagePolicy: {allowedNamespaces: {from: All}}
  default: true
  deletionPolicy: WipeOut
"#;

pub const RETENTION: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {name: demo-retention, namespace: demo}
spec:
  default: true
  failedSnapshots: {last: 2}
  maxRetentionPeriod: 2mo
  successfulSnapshots: {last: 5}
  usagePolicy: {allowedNamespaces: {from: All}}
"#;

pub const APP_BINDING: &str = r#"
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {name: sdb-sample, namespace: demo}
spec:
  type: kubedb.com/singlestore
  version: 8.5.7
  clientConfig: {service: {name: sdb-sample, port: 3306, scheme: tcp}}
  secret: {name: sdb-sample-root-cred}
  parameters: {apiVersion: config.kubedb.com/v1alpha1, kind: SinglestoreConfiguration, masterAggregator: sdb-sample-aggregator-0.sdb-sample-pods.demo.svc}
"#;

pub const CONFIG: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {name: sample-sdb-backup, namespace: demo}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: sdb-sample}
  backends:
  - name: gcs-backend
    storageRef: {namespace: demo, name: gcs-storage}
    retentionPolicy: {name: demo-retention, namespace: demo}
  sessions:
  - name: frequent-backup
    scheduler:
      schedule: "*/5 * * * *"
      concurrencyPolicy: Forbid
      successfulJobsHistoryLimit: 2
      failedJobsHistoryLimit: 1
      jobTemplate: {backoffLimit: 1}
    repositories:
    - name: gcs-sdb-repo
      backend: gcs-backend
      directory: /singlestore
      encryptionSecret: {name: encrypt-secret, namespace: demo}
      deletionPolicy: WipeOut
    addon:
      name: singlestore-addon
      tasks:
      - name: logical-backup
"#;

pub const RESTORE: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {name: restore-sample-singlestore, namespace: demo}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: sdb-sample}
  dataSource:
    repository: gcs-sdb-repo
    snapshot: latest
    encryptionSecret: {name: encrypt-secret, namespace: demo}
  addon:
    name: singlestore-addon
    tasks:
    - name: logical-backup-restore
"#;

/// Secrets, storage, retention policy, AppBinding: what the user applies first.
pub fn seed(fake: &Fake) {
    fake.put(secret(
        "demo",
        "gcs-secret",
        &[
            ("GOOGLE_PROJECT_ID", "p"),
            ("GOOGLE_SERVICE_ACCOUNT_JSON_KEY", "sa-key-TOPSECRET"),
        ],
    ));
    fake.put(secret(
        "demo",
        "encrypt-secret",
        &[("RESTIC_PASSWORD", "changeit-TOPSECRET")],
    ));
    fake.put(secret(
        "demo",
        "sdb-sample-root-cred",
        &[("username", "root"), ("password", "root-TOPSECRET")],
    ));
    fake.put(yaml(STORAGE));
    fake.put(yaml(RETENTION));
    fake.put(yaml(APP_BINDING));
}

/// Pins the request log as a YAML snapshot and checks no secret value leaked.
pub fn pin(name: &str, log: &[Logged]) {
    let text = serde_json::to_string(log).unwrap();
    assert!(
        !text.contains("TOPSECRET"),
        "a secret value leaked into a request"
    );
    insta::assert_yaml_snapshot!(name, log);
}

/// Reconciles as the operator does when its background tasks (backend IO, hooks) wake
/// it: once, then again after each batch of finished tasks, until none is left; the
/// reports merged in order.
pub async fn settle(
    d: &mut cairn_kube::driver::Driver,
    client: &Client,
    backend: &dyn cairn_kube::backend::BackendIo,
    fake: &Fake,
    now: DateTime<Utc>,
) -> Result<cairn_kube::driver::Report, cairn_kube::error::Error> {
    let mut report = cairn_kube::driver::Report::default();
    loop {
        d.tasks.idle().await;
        let observed = fake.observed();
        let turn = d
            .reconcile(client, backend, &observed, now, &fake.leader)
            .await?;
        report.effects.extend(turn.effects);
        report.refused.extend(turn.refused);
        report.unsettled = turn.unsettled;
        report.next_wakeup = turn.next_wakeup;
        d.tasks.idle().await;
        if !d.tasks.has_finished() {
            return Ok(report);
        }
    }
}
