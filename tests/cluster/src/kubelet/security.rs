//! securityContext decisions: the identity a container runs as, and upstream's
//! `runAsNonRoot` refusal (CreateContainerConfigError). Capabilities, seccomp,
//! readOnlyRootFilesystem and allowPrivilegeEscalation are accepted but not enforced.

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};

/// Who a container process runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// uid.
    pub uid: u32,
    /// gid.
    pub gid: u32,
    /// Supplementary groups (fsGroup, supplementalGroups).
    pub groups: Vec<u32>,
}

/// The identity of container `container` of pod `pod` (`ns/name`), or the message of a
/// CreateContainerConfigError.
pub fn identity(
    pod_sc: Option<&PodSecurityContext>,
    sc: Option<&SecurityContext>,
    image_user: (u32, u32),
    pod: &str,
    container: &str,
) -> Result<Identity, String> {
    let explicit = sc
        .and_then(|s| s.run_as_user)
        .or(pod_sc.and_then(|s| s.run_as_user));
    let uid = explicit.map_or(image_user.0, |u| u32::try_from(u).unwrap_or(0));
    let non_root = sc
        .and_then(|s| s.run_as_non_root)
        .or(pod_sc.and_then(|s| s.run_as_non_root))
        == Some(true);
    if non_root && uid == 0 {
        return Err(if explicit.is_some() {
            format!(
                "container's runAsUser breaks non-root policy (pod: \"{pod}\", container: {container})"
            )
        } else {
            format!(
                "container has runAsNonRoot and image will run as root (pod: \"{pod}\", container: {container})"
            )
        });
    }
    let group = sc
        .and_then(|s| s.run_as_group)
        .or(pod_sc.and_then(|s| s.run_as_group));
    // A uid given without a group gets the image's group only if it is the image's user
    // (its /etc/passwd entry); any other uid gets group 0, as containerd does.
    let gid = match group {
        Some(g) => u32::try_from(g).unwrap_or(0),
        None if uid == image_user.0 => image_user.1,
        None => 0,
    };
    let mut groups: Vec<u32> = pod_sc
        .and_then(|s| s.fs_group)
        .into_iter()
        .chain(
            pod_sc
                .and_then(|s| s.supplemental_groups.clone())
                .unwrap_or_default(),
        )
        .filter_map(|g| u32::try_from(g).ok())
        .collect();
    groups.sort_unstable();
    groups.dedup();
    Ok(Identity { uid, gid, groups })
}

/// The pod's fsGroup (volume directories are chowned to it).
pub fn fs_group(pod_sc: Option<&PodSecurityContext>) -> Option<u32> {
    pod_sc
        .and_then(|s| s.fs_group)
        .and_then(|g| u32::try_from(g).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonroot() -> SecurityContext {
        SecurityContext {
            run_as_non_root: Some(true),
            ..SecurityContext::default()
        }
    }

    #[test]
    fn run_as_non_root_uses_the_image_user() {
        let id = identity(None, Some(&nonroot()), (65532, 65532), "ns/p", "c").unwrap();
        assert_eq!(
            id,
            Identity {
                uid: 65532,
                gid: 65532,
                groups: vec![]
            }
        );
    }

    #[test]
    fn run_as_non_root_refuses_root() {
        let e = identity(None, Some(&nonroot()), (0, 0), "ns/p", "c").unwrap_err();
        assert!(e.contains("image will run as root"), "{e}");
        let pod = PodSecurityContext {
            run_as_user: Some(0),
            ..PodSecurityContext::default()
        };
        let e = identity(Some(&pod), Some(&nonroot()), (65532, 65532), "ns/p", "c").unwrap_err();
        assert!(e.contains("breaks non-root policy"), "{e}");
    }

    #[test]
    fn container_settings_override_pod_settings() {
        let pod = PodSecurityContext {
            run_as_user: Some(1000),
            run_as_group: Some(2000),
            fs_group: Some(3000),
            supplemental_groups: Some(vec![4000]),
            ..PodSecurityContext::default()
        };
        let c = SecurityContext {
            run_as_user: Some(1001),
            ..SecurityContext::default()
        };
        let id = identity(Some(&pod), Some(&c), (0, 0), "ns/p", "c").unwrap();
        assert_eq!(
            id,
            Identity {
                uid: 1001,
                gid: 2000,
                groups: vec![3000, 4000]
            }
        );
        let id = identity(None, Some(&c), (65532, 65532), "ns/p", "c").unwrap();
        assert_eq!(id.gid, 0);
        assert_eq!(identity(None, None, (0, 0), "ns/p", "c").unwrap().uid, 0);
    }
}
