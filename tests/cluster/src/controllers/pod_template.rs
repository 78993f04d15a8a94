//! Pods from a controller's pod template, bound straight to the node (the test cluster has
//! no scheduler: binding here is what the scheduler's Binding would do).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::naming::generated_name;
use super::NODE_NAME;

/// A pod named `<prefix>-<5 random chars>` from `template`, owned by `owner`, with
/// `labels` added, bound to [`NODE_NAME`].
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    prefix: &str,
    owner: OwnerReference,
    labels: BTreeMap<String, String>,
) -> Pod {
    let meta = template.metadata.clone().unwrap_or_default();
    let mut all_labels = meta.labels.clone().unwrap_or_default();
    all_labels.extend(labels);
    let mut spec = template.spec.clone().unwrap_or_default();
    spec.node_name = Some(NODE_NAME.to_owned());
    Pod {
        metadata: ObjectMeta {
            name: Some(generated_name(prefix)),
            generate_name: Some(format!("{prefix}-")),
            namespace: Some(namespace.to_owned()),
            labels: Some(all_labels),
            annotations: meta.annotations.clone(),
            finalizers: meta.finalizers.clone(),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}
