//! Pod volumes as directories under the pod's directory, and the bind mounts that put
//! them at each container's `volumeMounts[].mountPath`.
//!
//! Supported: secret, configMap, emptyDir, hostPath, projected (serviceAccountToken,
//! configMap, secret, downwardAPI), downwardAPI, persistentVolumeClaim (a directory per
//! claim). When the pod has no `kube-api-access-*` volume (the API server's admission
//! adds it) and `automountServiceAccountToken` is not false, the kubelet mounts the
//! service-account token, CA and namespace itself, as that volume would.

pub mod files;
mod token;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, Pod, Volume};
use kube::{Client, ResourceExt as _};

use super::env::{field_value, Sources};
use super::layout::Layout;
use super::process::BindMount;
use files::Files;

/// Where the service-account volume is mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Name of the volume the kubelet adds when admission did not.
const IMPLICIT_TOKEN_VOLUME: &str = "kube-api-access-kubelet";

/// What preparing volumes needs.
pub struct VolumeContext<'a> {
    /// API client (Secrets, ConfigMaps, TokenRequest).
    pub client: &'a Client,
    /// File layout.
    pub layout: &'a Layout,
    /// PEM of the cluster CA (ca.crt).
    pub ca_pem: &'a [u8],
}

/// Volume name -> directory (or file, for hostPath files).
pub type PodVolumes = BTreeMap<String, PathBuf>;

/// Whether the kubelet must add the service-account volume itself.
pub fn needs_implicit_token(pod: &Pod) -> bool {
    let spec = pod.spec.clone().unwrap_or_default();
    spec.automount_service_account_token != Some(false)
        && !spec
            .volumes
            .iter()
            .flatten()
            .any(|v| v.name.starts_with("kube-api-access-"))
}

/// Materialises every volume of `pod`; an error (e.g. a missing Secret) keeps the pod in
/// ContainerCreating and is retried.
pub async fn prepare(ctx: &VolumeContext<'_>, pod: &Pod) -> Result<PodVolumes, String> {
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let sources = Sources::new(ctx.client.clone(), &ns);
    let spec = pod.spec.clone().unwrap_or_default();
    let fs_group = super::security::fs_group(spec.security_context.as_ref());
    let mut out = PodVolumes::new();
    for v in spec.volumes.iter().flatten() {
        let dir = ctx.layout.volume(&ns, &name, &v.name);
        let path = materialise(ctx, &sources, pod, v, &dir).await?;
        if let Some(g) = fs_group.filter(|_| v.host_path.is_none()) {
            chown_group(&path, g);
        }
        out.insert(v.name.clone(), path);
    }
    if needs_implicit_token(pod) {
        let dir = ctx.layout.volume(&ns, &name, IMPLICIT_TOKEN_VOLUME);
        let token = token::request(ctx.client, pod, None, None).await?;
        let files = Files::from([
            ("token".to_owned(), (token.into_bytes(), 0o644)),
            ("ca.crt".to_owned(), (ctx.ca_pem.to_vec(), 0o644)),
            ("namespace".to_owned(), (ns.clone().into_bytes(), 0o644)),
        ]);
        files::write(&dir, &files).map_err(|e| e.to_string())?;
        out.insert(IMPLICIT_TOKEN_VOLUME.to_owned(), dir);
    }
    Ok(out)
}

async fn materialise(
    ctx: &VolumeContext<'_>,
    sources: &Sources,
    pod: &Pod,
    v: &Volume,
    dir: &Path,
) -> Result<PathBuf, String> {
    let io = |e: std::io::Error| format!("volume {}: {e}", v.name);
    if let Some(h) = &v.host_path {
        let p = PathBuf::from(&h.path);
        if matches!(h.type_.as_deref(), Some("DirectoryOrCreate")) {
            std::fs::create_dir_all(&p).map_err(io)?;
        }
        return Ok(p);
    }
    if let Some(c) = &v.persistent_volume_claim {
        let p = ctx
            .layout
            .claim(&pod.namespace().unwrap_or_default(), &c.claim_name);
        std::fs::create_dir_all(&p).map_err(io)?;
        return Ok(p);
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(io)?;
    let files = if v.empty_dir.is_some() {
        // emptyDir is world-writable, as the kubelet makes it.
        set_mode(dir, 0o777).map_err(io)?;
        Files::new()
    } else if let Some(s) = &v.secret {
        let name = s.secret_name.clone().unwrap_or_default();
        let optional = s.optional == Some(true);
        match sources.secret(&name).await? {
            Some(data) => files::select(
                &data,
                s.items.as_deref(),
                mode(s.default_mode),
                &name,
                optional,
            )?,
            None if optional => Files::new(),
            None => return Err(format!("secret \"{name}\" not found")),
        }
    } else if let Some(c) = &v.config_map {
        let name = c.name.clone();
        let optional = c.optional == Some(true);
        match sources.config_map(&name).await? {
            Some(data) => files::select(
                &data,
                c.items.as_deref(),
                mode(c.default_mode),
                &name,
                optional,
            )?,
            None if optional => Files::new(),
            None => return Err(format!("configmap \"{name}\" not found")),
        }
    } else if let Some(d) = &v.downward_api {
        let mut f = Files::new();
        for item in d.items.iter().flatten() {
            if let Some(r) = &item.field_ref {
                let m = item.mode.map_or(mode(d.default_mode), |m| m as u32);
                f.insert(item.path.clone(), (field_value(pod, r)?.into_bytes(), m));
            }
        }
        f
    } else if let Some(p) = &v.projected {
        projected(ctx, sources, pod, p).await?
    } else {
        return Err(format!("volume {}: unsupported volume type", v.name));
    };
    files::write(dir, &files).map_err(io)?;
    Ok(dir.to_owned())
}

async fn projected(
    ctx: &VolumeContext<'_>,
    sources: &Sources,
    pod: &Pod,
    p: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
) -> Result<Files, String> {
    let default = mode(p.default_mode);
    let mut out = Files::new();
    for src in p.sources.iter().flatten() {
        if let Some(t) = &src.service_account_token {
            let token =
                token::request(ctx.client, pod, t.audience.as_deref(), t.expiration_seconds)
                    .await?;
            out.insert(t.path.clone(), (token.into_bytes(), default));
        }
        if let Some(c) = &src.config_map {
            let optional = c.optional == Some(true);
            let data = match sources.config_map(&c.name).await? {
                Some(d) => Some(d),
                // No root-CA publisher ran yet: the kubelet knows the CA anyway.
                None if c.name == "kube-root-ca.crt" => {
                    Some(BTreeMap::from([("ca.crt".to_owned(), ctx.ca_pem.to_vec())]))
                }
                None if optional => None,
                None => return Err(format!("configmap \"{}\" not found", c.name)),
            };
            if let Some(d) = data {
                out.extend(files::select(
                    &d,
                    c.items.as_deref(),
                    default,
                    &c.name,
                    optional,
                )?);
            }
        }
        if let Some(s) = &src.secret {
            let optional = s.optional == Some(true);
            match sources.secret(&s.name).await? {
                Some(d) => out.extend(files::select(
                    &d,
                    s.items.as_deref(),
                    default,
                    &s.name,
                    optional,
                )?),
                None if optional => {}
                None => return Err(format!("secret \"{}\" not found", s.name)),
            }
        }
        if let Some(d) = &src.downward_api {
            for item in d.items.iter().flatten() {
                if let Some(r) = &item.field_ref {
                    let m = item.mode.map_or(default, |m| m as u32);
                    out.insert(item.path.clone(), (field_value(pod, r)?.into_bytes(), m));
                }
            }
        }
    }
    Ok(out)
}

fn mode(m: Option<i32>) -> u32 {
    m.map_or(0o644, |m| m as u32)
}

fn set_mode(p: &Path, m: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m))
}

/// fsGroup: the volume's files belong to the group.
fn chown_group(p: &Path, gid: u32) {
    let g = Some(nix::unistd::Gid::from_raw(gid));
    let _ = nix::unistd::chown(p, None, g);
    if let Ok(entries) = std::fs::read_dir(p) {
        for e in entries.flatten() {
            chown_group(&e.path(), gid);
        }
    }
}

/// The bind mounts of `container` (its `volumeMounts`, plus the implicit service-account
/// volume), parents before children.
pub fn mounts_for(container: &Container, volumes: &PodVolumes) -> Result<Vec<BindMount>, String> {
    let mut out = Vec::new();
    for m in container.volume_mounts.iter().flatten() {
        let Some(base) = volumes.get(&m.name) else {
            return Err(format!(
                "volume {:?} not found for mount {:?}",
                m.name, m.mount_path
            ));
        };
        let source = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            Some(sub) => {
                let p = base.join(sub);
                if !p.exists() {
                    std::fs::create_dir_all(&p).map_err(|e| e.to_string())?;
                }
                p
            }
            None => base.clone(),
        };
        out.push(BindMount {
            source,
            target: PathBuf::from(&m.mount_path),
            read_only: m.read_only == Some(true),
        });
    }
    let mounted = out
        .iter()
        .any(|b| b.target == Path::new(SERVICE_ACCOUNT_DIR));
    if let Some(dir) = volumes.get(IMPLICIT_TOKEN_VOLUME).filter(|_| !mounted) {
        out.push(BindMount {
            source: dir.clone(),
            target: SERVICE_ACCOUNT_DIR.into(),
            read_only: true,
        });
    }
    out.sort_by_key(|b| b.target.components().count());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, VolumeMount};

    #[test]
    fn mounts_are_ordered_and_include_the_token() {
        let c = Container {
            volume_mounts: Some(vec![
                VolumeMount {
                    name: "a".into(),
                    mount_path: "/data/inner".into(),
                    ..VolumeMount::default()
                },
                VolumeMount {
                    name: "b".into(),
                    mount_path: "/data".into(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                },
            ]),
            ..Container::default()
        };
        let vols = PodVolumes::from([
            ("a".to_owned(), PathBuf::from("/v/a")),
            ("b".to_owned(), PathBuf::from("/v/b")),
            (IMPLICIT_TOKEN_VOLUME.to_owned(), PathBuf::from("/v/t")),
        ]);
        let m = mounts_for(&c, &vols).unwrap();
        let targets: Vec<_> = m.iter().map(|b| b.target.display().to_string()).collect();
        assert_eq!(targets, ["/data", "/data/inner", SERVICE_ACCOUNT_DIR]);
        assert!(m[0].read_only);
        let missing = Container {
            volume_mounts: Some(vec![VolumeMount {
                name: "zz".into(),
                mount_path: "/x".into(),
                ..VolumeMount::default()
            }]),
            ..Container::default()
        };
        assert!(mounts_for(&missing, &vols).is_err());
    }

    #[test]
    fn the_kubelet_adds_the_token_only_when_admission_did_not() {
        let mut pod = Pod {
            spec: Some(PodSpec::default()),
            ..Pod::default()
        };
        assert!(needs_implicit_token(&pod));
        pod.spec.as_mut().unwrap().automount_service_account_token = Some(false);
        assert!(!needs_implicit_token(&pod));
        pod.spec.as_mut().unwrap().automount_service_account_token = None;
        pod.spec.as_mut().unwrap().volumes = Some(vec![Volume {
            name: "kube-api-access-x1".into(),
            ..Volume::default()
        }]);
        assert!(!needs_implicit_token(&pod));
    }
}
