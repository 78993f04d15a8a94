//! AppBinding (`appcatalog.appscode.com/v1alpha1`): how to connect to an application;
//! KubeDB writes one per database with the database's name. No status.

use k8s_openapi::api::core::v1::LocalObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reference::TypedObjectReference;
use super::schema::{embedded_resource, no_default};
use super::wire::is_false;

/// Desired state of an AppBinding.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "AppBinding tells how to connect to an application.",
    group = "appcatalog.appscode.com",
    version = "v1alpha1",
    kind = "AppBinding",
    plural = "appbindings",
    singular = "appbinding",
    namespaced,
    category = "catalog",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.version"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct AppBindingSpec {
    /// Application type, e.g. `kubedb.com/singlestore`.
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub type_: String,
    /// The application object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ref: Option<TypedObjectReference>,
    /// Application version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// How to reach the application.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub client_config: ClientConfig,
    /// Auth Secret (keys `username`, `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretReference>,
    /// Key transformations applied to the Secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_transforms: Vec<SecretTransform>,
    /// Application-specific parameters, an embedded object such as
    /// `config.kubedb.com/v1alpha1` `SinglestoreConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "embedded_resource")]
    pub parameters: Option<Value>,
    /// TLS Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<SecretReference>,
}

/// Connection settings of an application.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// Direct URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A Service in front of the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceReference>,
    /// Skip TLS verification.
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure_skip_tls_verify: bool,
    /// PEM CA bundle, base64 in JSON.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("format" = "byte"))]
    pub ca_bundle: String,
    /// TLS server name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_name: String,
}

/// A Service and port of an application.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReference {
    /// URL scheme, e.g. `tcp`.
    #[serde(default)]
    pub scheme: String,
    /// Service namespace; defaults to the AppBinding's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Service name.
    #[serde(default)]
    pub name: String,
    /// Port, e.g. 3306.
    #[serde(default)]
    pub port: i32,
    /// URL path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// URL query.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
}

/// Reference to a Secret-like object (appcatalog `TypedLocalObjectReference`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretReference {
    /// API group (default "").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = ""))]
    pub api_group: Option<String>,
    /// Kind (default `Secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Secret"))]
    pub kind: Option<String>,
    /// Name.
    pub name: String,
}

/// One transformation of the auth Secret's keys.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretTransform {
    /// Rename a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename_key: Option<RenameKeyTransform>,
    /// Add a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_key: Option<AddKeyTransform>,
    /// Add all keys of another Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_keys_from: Option<AddKeysFromTransform>,
    /// Remove a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_key: Option<RemoveKeyTransform>,
}

/// Rename key `from` to `to`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct RenameKeyTransform {
    /// Old key.
    pub from: String,
    /// New key.
    pub to: String,
}

/// Add `key` with a value.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddKeyTransform {
    /// Key.
    pub key: String,
    /// Value, base64 in JSON.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("format" = "byte"))]
    pub value: String,
    /// Value as plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
}

/// Add every key of a Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddKeysFromTransform {
    /// The Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// Remove `key`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct RemoveKeyTransform {
    /// Key.
    pub key: String,
}

impl AppBinding {
    /// Host to connect to: `spec.parameters.masterAggregator` when set (SingleStore),
    /// else `<service>.<namespace>.svc`.
    pub fn host(&self) -> Option<String> {
        let aggregator = self
            .spec
            .parameters
            .as_ref()
            .and_then(|p| p.get("masterAggregator"))
            .and_then(Value::as_str);
        if let Some(host) = aggregator {
            return Some(host.to_owned());
        }
        let service = self.spec.client_config.service.as_ref()?;
        let namespace = if service.namespace.is_empty() {
            self.metadata.namespace.as_deref()?
        } else {
            &service.namespace
        };
        Some(format!("{}.{namespace}.svc", service.name))
    }

    /// Port of the client Service, if any.
    pub fn port(&self) -> Option<i32> {
        self.spec.client_config.service.as_ref().map(|s| s.port)
    }
}
