//! `pod-template-hash`: upstream hashes the pod template (plus `collisionCount`) with
//! FNV-32a and encodes the decimal with SafeEncodeString. Upstream hashes Go's printed
//! struct; here the template's JSON, so values differ but their form and stability match.

use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::super::naming::safe_encode;

/// The label the Deployment controller adds to its ReplicaSets and pods.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// The hash of `template` with `collision_count`.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(template).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&c.to_le_bytes());
    }
    safe_encode(&fnv32a(&bytes).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn stable_and_sensitive_to_the_template() {
        let mut t = PodTemplateSpec::default();
        let a = pod_template_hash(&t, None);
        assert_eq!(a, pod_template_hash(&t, None));
        assert_ne!(a, pod_template_hash(&t, Some(1)));
        t.metadata = Some(Default::default());
        t.metadata.as_mut().unwrap().annotations = Some(BTreeMap::from([(
            "kubectl.kubernetes.io/restartedAt".to_owned(),
            "now".to_owned(),
        )]));
        assert_ne!(a, pod_template_hash(&t, None));
        assert!(a.len() <= 10);
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
    }
}
