//! AppBinding + auth Secret → the database to connect to.
//!
//! Resolution order: `clientConfig.url` (KubeDB writes `tcp(host:port)/`; `mysql://` is
//! accepted too), else `clientConfig.service` (name and port). SingleStore's
//! `spec.parameters.masterAggregator`, when set, replaces the host (dumps must run
//! against the master aggregator). The auth Secret's `username` and `password` keys
//! override whatever the URL carried.

use cairn_core::api::AppBinding;
use cairn_core::world::Secret;
use cairn_db::conn::{DbTarget, Secret as DbSecret, DEFAULT_PORT};
use serde_json::Value;

use crate::error::{JobError, Result};

/// Auth Secret key holding the user name.
pub const KEY_USERNAME: &str = "username";
/// Auth Secret key holding the password.
pub const KEY_PASSWORD: &str = "password";

/// How a `clientConfig.service` name becomes a host name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostStyle {
    /// Local mode: the service name is a host name or address as is (`127.0.0.1`, `db1`).
    #[default]
    Local,
    /// In a cluster: `<service>.<namespace>.svc`.
    Cluster,
}

/// The database target of `app`, with credentials from `auth` (its `spec.secret`).
pub fn db_target(app: &AppBinding, auth: Option<&Secret>, style: HostStyle) -> Result<DbTarget> {
    let label = app_label(app);
    let invalid = |reason: String| JobError::InvalidAppBinding {
        app: label.clone(),
        reason,
    };
    let config = &app.spec.client_config;
    let mut target = match (&config.url, &config.service) {
        (Some(url), _) if !url.trim().is_empty() => DbTarget::parse_url(url)
            .map_err(|e| invalid(format!("clientConfig.url: {e}")))?,
        (_, Some(service)) if !service.name.is_empty() => {
            let host = match style {
                HostStyle::Local => service.name.clone(),
                HostStyle::Cluster => app
                    .host()
                    .ok_or_else(|| invalid("clientConfig.service has no namespace".into()))?,
            };
            let port = u16::try_from(service.port)
                .ok()
                .filter(|p| *p != 0)
                .unwrap_or(DEFAULT_PORT);
            DbTarget::new(host, port, "root")
        }
        _ => {
            return Err(invalid(
                "neither clientConfig.url nor clientConfig.service is set: set url (e.g. tcp(127.0.0.1:3306)/) or service {name, port}".into(),
            ))
        }
    };
    if let Some(aggregator) = master_aggregator(app) {
        match aggregator.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() => {
                target.host = host.to_owned();
                target.port = port.parse().unwrap_or(target.port);
            }
            _ => target.host = aggregator,
        }
    }
    if let Some(secret) = auth {
        if let Some(user) = secret.data.get(KEY_USERNAME) {
            target.user = user.expose().to_owned();
        }
        match secret.data.get(KEY_PASSWORD) {
            Some(pw) => target.password = Some(DbSecret::new(pw.expose())),
            None => {
                return Err(JobError::MissingSecretKey {
                    secret: format!("{}/{}", secret.namespace, secret.name),
                    key: KEY_PASSWORD,
                    purpose: "the database password of the AppBinding",
                })
            }
        }
    }
    Ok(target)
}

/// `spec.parameters.masterAggregator` of a SingleStore AppBinding.
fn master_aggregator(app: &AppBinding) -> Option<String> {
    app.spec
        .parameters
        .as_ref()
        .and_then(|p| p.get("masterAggregator"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `namespace/name` of an AppBinding.
pub fn app_label(app: &AppBinding) -> String {
    format!(
        "{}/{}",
        app.metadata.namespace.as_deref().unwrap_or_default(),
        app.metadata.name.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(yaml: &str) -> AppBinding {
        serde_yaml::from_str(yaml).unwrap()
    }

    const HEAD: &str = "apiVersion: appcatalog.appscode.com/v1alpha1\nkind: AppBinding\nmetadata: {name: db, namespace: demo}\n";

    #[test]
    fn kubedb_url_and_auth_secret() {
        let app = binding(&format!(
            "{HEAD}spec:\n  clientConfig:\n    url: tcp(127.0.0.1:3307)/\n  secret: {{name: db-auth}}\n"
        ));
        let auth = Secret::new(
            "demo",
            "db-auth",
            [("username", "admin"), ("password", "pw")],
        );
        let t = db_target(&app, Some(&auth), HostStyle::Local).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("127.0.0.1", 3307, "admin")
        );
        assert_eq!(t.password.unwrap().expose(), "pw");
    }

    #[test]
    fn mysql_url_service_and_master_aggregator() {
        let app = binding(&format!(
            "{HEAD}spec:\n  clientConfig:\n    url: mysql://u@h:3310\n"
        ));
        let t = db_target(&app, None, HostStyle::Local).unwrap();
        assert_eq!((t.host.as_str(), t.port, t.user.as_str()), ("h", 3310, "u"));

        let app = binding(&format!(
            "{HEAD}spec:\n  clientConfig:\n    service: {{name: 127.0.0.1, port: 3311, scheme: tcp}}\n  parameters:\n    apiVersion: config.kubedb.com/v1alpha1\n    kind: SinglestoreConfiguration\n    masterAggregator: agg-0.local\n"
        ));
        let t = db_target(&app, None, HostStyle::Local).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("agg-0.local", 3311));
        let t = db_target(&app, None, HostStyle::Cluster).unwrap();
        assert_eq!(t.host, "agg-0.local");
    }

    #[test]
    fn missing_connection_and_password_key_are_explained() {
        let app = binding(&format!("{HEAD}spec:\n  clientConfig: {{}}\n"));
        let err = db_target(&app, None, HostStyle::Local)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AppBinding demo/db") && err.contains("clientConfig.url"),
            "{err}"
        );
        let app = binding(&format!(
            "{HEAD}spec:\n  clientConfig: {{url: 'tcp(h:1)/'}}\n"
        ));
        let auth = Secret::new("demo", "a", [("username", "x")]);
        let err = db_target(&app, Some(&auth), HostStyle::Local)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Secret demo/a has no key \"password\""),
            "{err}"
        );
    }
}
