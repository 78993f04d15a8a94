//! Volume sources of addon volumes and volume templates (`apis.VolumeSource`): an
//! offshoot-api `VolumeSource` (emptyDir, hostPath, nfs, ...) plus a claim template.
//! The volume-source fields are kept as written rather than modelled one by one.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::free_form_object;

/// A volume source, or a template for a PersistentVolumeClaim to create.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct VolumeSource {
    /// PersistentVolumeClaim to create for this volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub volume_claim_template: Option<Value>,
    /// The inline volume source fields (`emptyDir`, `hostPath`, `nfs`, ...).
    #[serde(flatten)]
    #[schemars(skip)]
    pub source: BTreeMap<String, Value>,
}

impl VolumeSource {
    /// An `emptyDir: {}` source.
    pub fn empty_dir() -> Self {
        let mut source = BTreeMap::new();
        source.insert("emptyDir".to_owned(), Value::Object(serde_json::Map::new()));
        Self {
            volume_claim_template: None,
            source,
        }
    }
}
