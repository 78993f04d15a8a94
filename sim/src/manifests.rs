//! The user's manifests: a small, fixed catalogue of objects the simulated user applies,
//! written as the YAML a user would write (parsed by the core's own API types).

use cairn_core::api::{
    AppBinding, BackupConfiguration, BackupStorage, RestoreSession, RetentionPolicy,
};
use cairn_core::world::{Object, Secret};
use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use cairn_core::world::object::to_time;

/// Name of the BackupStorage of every namespace.
pub const STORAGE: &str = "storage";
/// Name of the storage credentials Secret.
pub const STORAGE_SECRET: &str = "s3-secret";
/// Name of the restic password Secret.
pub const ENCRYPTION_SECRET: &str = "encrypt-secret";
/// Name of the RetentionPolicy.
pub const RETENTION: &str = "keep-last";
/// Name of the database (and its AppBinding).
pub const DATABASE: &str = "sdb";
/// Name of the only session of every BackupConfiguration.
pub const SESSION: &str = "hourly";

/// Secret values that must never show up in any status, event or message. Distinctive
/// so that a leak check by substring cannot match anything by accident.
pub const SECRET_VALUES: [&str; 3] = [
    "AKIAsimSECRETid0001",
    "simSECRETkey/0002+zz",
    "simRESTICpassword0003",
];

/// What varies between BackupConfigurations of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConfigurationParams {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Schedule of its session, e.g. `@every 1h`.
    pub schedule: String,
    /// Repository names; each gets its own directory.
    pub repositories: Vec<String>,
    /// `retryConfig.maxRetry` (0: no retryConfig).
    pub max_retry: u32,
    /// `backupTimeout`, Go duration.
    pub backup_timeout: String,
    /// `paused`.
    pub paused: bool,
}

fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
    match serde_yaml::from_str(yaml) {
        Ok(v) => v,
        // The catalogue is fixed text: failing to parse it is a bug in this file.
        Err(e) => panic!("sim manifest does not parse: {e}\n{yaml}"),
    }
}

/// Stamps what an API server fills in on create: creation time and a uid.
fn created(meta: &mut ObjectMeta, at: DateTime<Utc>) {
    meta.creation_timestamp = Some(to_time(at));
    let ns = meta.namespace.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    meta.uid = Some(format!("uid-{ns}-{name}"));
}

/// The storage credentials and the restic password of `namespace`.
pub fn secrets(namespace: &str) -> Vec<Secret> {
    vec![
        Secret::new(
            namespace,
            STORAGE_SECRET,
            [
                ("AWS_ACCESS_KEY_ID", SECRET_VALUES[0]),
                ("AWS_SECRET_ACCESS_KEY", SECRET_VALUES[1]),
            ],
        ),
        Secret::new(
            namespace,
            ENCRYPTION_SECRET,
            [("RESTIC_PASSWORD", SECRET_VALUES[2])],
        ),
    ]
}

/// The database's AppBinding in `namespace`.
pub fn app_binding(namespace: &str) -> Object {
    let yaml = format!(
        r#"
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {{name: {DATABASE}, namespace: {namespace}}}
spec:
  appRef: {{apiGroup: kubedb.com, kind: Singlestore, name: {DATABASE}, namespace: {namespace}}}
  clientConfig:
    service: {{name: {DATABASE}, port: 3306, scheme: tcp}}
  secret: {{name: {DATABASE}-root-cred}}
  type: kubedb.com/singlestore
  version: 8.5.7
"#
    );
    Object::AppBinding(parse::<AppBinding>(&yaml))
}

/// The S3 BackupStorage of `namespace`.
pub fn storage(namespace: &str, at: DateTime<Utc>) -> Object {
    let yaml = format!(
        r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {{name: {STORAGE}, namespace: {namespace}}}
spec:
  storage:
    provider: s3
    s3: {{endpoint: "https://s3.sim.invalid", bucket: sim, prefix: {namespace}, secretName: {STORAGE_SECRET}}}
  usagePolicy:
    allowedNamespaces: {{from: Same}}
  deletionPolicy: Delete
"#
    );
    let mut o = parse::<BackupStorage>(&yaml);
    created(&mut o.metadata, at);
    Object::BackupStorage(o)
}

/// The RetentionPolicy of `namespace`: keep the last successful and the last failed one.
pub fn retention(namespace: &str, at: DateTime<Utc>) -> Object {
    let yaml = format!(
        r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {{name: {RETENTION}, namespace: {namespace}}}
spec:
  maxRetentionPeriod: 30d
  successfulSnapshots: {{last: 1}}
  failedSnapshots: {{last: 1}}
  usagePolicy:
    allowedNamespaces: {{from: Same}}
"#
    );
    let mut o = parse::<RetentionPolicy>(&yaml);
    created(&mut o.metadata, at);
    Object::RetentionPolicy(o)
}

/// A BackupConfiguration of the database with one session.
pub fn configuration(p: &ConfigurationParams, at: DateTime<Utc>) -> Object {
    let ns = &p.namespace;
    let repositories: String = p
        .repositories
        .iter()
        .map(|r| {
            format!(
                "\n    - {{name: {r}, backend: backend, directory: /{ns}/{name}/{r}, encryptionSecret: {{name: {ENCRYPTION_SECRET}, namespace: {ns}}}, deletionPolicy: Retain}}",
                name = p.name
            )
        })
        .collect();
    let retry = if p.max_retry == 0 {
        String::new()
    } else {
        format!(
            "\n    retryConfig: {{maxRetry: {}, delay: 0s}}",
            p.max_retry
        )
    };
    let yaml = format!(
        r#"
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {{name: {name}, namespace: {ns}}}
spec:
  paused: {paused}
  target: {{apiGroup: kubedb.com, kind: Singlestore, namespace: {ns}, name: {DATABASE}}}
  backends:
  - name: backend
    storageRef: {{namespace: {ns}, name: {STORAGE}}}
    retentionPolicy: {{namespace: {ns}, name: {RETENTION}}}
  sessions:
  - name: {SESSION}
    scheduler:
      schedule: "{schedule}"
      jobTemplate: {{backoffLimit: 1, template: {{}}}}{retry}
    backupTimeout: {timeout}
    sessionHistoryLimit: 2
    repositories:{repositories}
    addon:
      name: singlestore-addon
      tasks: [{{name: logical-backup}}]
"#,
        name = p.name,
        paused = p.paused,
        schedule = p.schedule,
        timeout = p.backup_timeout,
    );
    let mut o = parse::<BackupConfiguration>(&yaml);
    created(&mut o.metadata, at);
    Object::BackupConfiguration(o)
}

/// A RestoreSession of the latest snapshot of `repository` into the database.
pub fn restore(namespace: &str, name: &str, repository: &str, at: DateTime<Utc>) -> Object {
    let yaml = format!(
        r#"
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  target: {{apiGroup: kubedb.com, kind: Singlestore, namespace: {namespace}, name: {DATABASE}}}
  dataSource:
    repository: {repository}
    snapshot: latest
    encryptionSecret: {{name: {ENCRYPTION_SECRET}, namespace: {namespace}}}
  addon:
    name: singlestore-addon
    tasks: [{{name: logical-backup-restore}}]
  restoreTimeout: 1h
"#
    );
    let mut o = parse::<RestoreSession>(&yaml);
    created(&mut o.metadata, at);
    Object::RestoreSession(o)
}
