//! A container's environment, built as the kubelet's makeEnvironmentVariables does:
//! `envFrom` (with prefixes), then `env` in order (values `$(VAR)`-expanded against what
//! precedes them and the Service variables), then Service variables (docker-links style,
//! `KUBERNETES_SERVICE_HOST`/`_PORT` included) where not already set.

pub mod expand;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, ObjectFieldSelector, Pod, Secret};
use kube::{Api, Client, ResourceExt as _};

/// A Service, as environment variables see it.
#[derive(Clone, Debug)]
pub struct ServiceEnv {
    /// Name.
    pub name: String,
    /// clusterIP.
    pub ip: String,
    /// (port name, port, protocol).
    pub ports: Vec<(Option<String>, i32, String)>,
}

/// What every container gets before the pod's own env: the runtime's defaults.
fn runtime_defaults(pod: &Pod) -> Vec<(String, String)> {
    vec![
        (
            "PATH".into(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOSTNAME".into(), hostname(pod)),
        ("HOME".into(), "/".into()),
    ]
}

/// The pod's hostname (`spec.hostname` or the pod name).
pub fn hostname(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.hostname.clone())
        .unwrap_or_else(|| pod.name_any())
}

/// The docker-links variables of `services` (upstream envvars.FromServices).
pub fn service_variables(services: &[ServiceEnv]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in services {
        let Some((first_name, first_port, first_proto)) = s.ports.first() else {
            continue;
        };
        let _ = first_name;
        let n = s.name.to_uppercase().replace('-', "_");
        out.push((format!("{n}_SERVICE_HOST"), s.ip.clone()));
        out.push((format!("{n}_SERVICE_PORT"), first_port.to_string()));
        for (pname, port, _) in &s.ports {
            if let Some(pname) = pname {
                out.push((
                    format!(
                        "{n}_SERVICE_PORT_{}",
                        pname.to_uppercase().replace('-', "_")
                    ),
                    port.to_string(),
                ));
            }
        }
        out.push((
            format!("{n}_PORT"),
            format!("{}://{}:{first_port}", first_proto.to_lowercase(), s.ip),
        ));
        for (_, port, proto) in &s.ports {
            let p = format!("{n}_PORT_{port}_{}", proto.to_uppercase());
            out.push((
                p.clone(),
                format!("{}://{}:{port}", proto.to_lowercase(), s.ip),
            ));
            out.push((format!("{p}_PROTO"), proto.to_lowercase()));
            out.push((format!("{p}_PORT"), port.to_string()));
            out.push((format!("{p}_ADDR"), s.ip.clone()));
        }
    }
    out
}

/// `fieldRef` values the kubelet resolves.
pub fn field_value(pod: &Pod, sel: &ObjectFieldSelector) -> Result<String, String> {
    let path = sel.field_path.as_str();
    let spec = pod.spec.clone().unwrap_or_default();
    let meta_map = |m: Option<&BTreeMap<String, String>>, key: &str| {
        m.and_then(|m| m.get(key)).cloned().unwrap_or_default()
    };
    let key_of = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix("['"))
            .and_then(|r| r.strip_suffix("']"))
            .map(str::to_owned)
    };
    Ok(match path {
        "metadata.name" => pod.name_any(),
        "metadata.namespace" => pod.namespace().unwrap_or_default(),
        "metadata.uid" => pod.uid().unwrap_or_default(),
        "spec.nodeName" => spec.node_name.unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .service_account_name
            .unwrap_or_else(|| "default".into()),
        "status.podIP" | "status.hostIP" | "status.podIPs" | "status.hostIPs" => "127.0.0.1".into(),
        _ => {
            if let Some(k) = key_of("metadata.labels") {
                meta_map(pod.metadata.labels.as_ref(), &k)
            } else if let Some(k) = key_of("metadata.annotations") {
                meta_map(pod.metadata.annotations.as_ref(), &k)
            } else {
                return Err(format!("unsupported fieldPath: {path}"));
            }
        }
    })
}

/// Reads Secrets and ConfigMaps of the pod's namespace.
pub struct Sources {
    secrets: Api<Secret>,
    config_maps: Api<ConfigMap>,
    namespace: String,
}

impl Sources {
    /// Sources of `namespace`.
    pub fn new(client: Client, namespace: &str) -> Self {
        Self {
            secrets: Api::namespaced(client.clone(), namespace),
            config_maps: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
        }
    }

    /// A Secret's data (`None` when absent).
    pub async fn secret(&self, name: &str) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
        let s = self
            .secrets
            .get_opt(name)
            .await
            .map_err(|e| e.to_string())?;
        Ok(s.map(|s| {
            let mut data: BTreeMap<String, Vec<u8>> = s
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            for (k, v) in s.string_data.unwrap_or_default() {
                data.insert(k, v.into_bytes());
            }
            data
        }))
    }

    /// A ConfigMap's data and binaryData (`None` when absent).
    pub async fn config_map(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
        let c = self
            .config_maps
            .get_opt(name)
            .await
            .map_err(|e| e.to_string())?;
        Ok(c.map(|c| {
            let mut data: BTreeMap<String, Vec<u8>> = c
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect();
            for (k, v) in c.binary_data.unwrap_or_default() {
                data.insert(k, v.0);
            }
            data
        }))
    }

    async fn required(
        &self,
        kind: &str,
        name: &str,
        optional: bool,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
        let data = if kind == "secret" {
            self.secret(name).await?
        } else {
            self.config_map(name).await?
        };
        match data {
            None if optional => Ok(None),
            None => Err(format!("{kind} \"{name}\" not found")),
            some => Ok(some),
        }
    }

    async fn key(
        &self,
        kind: &str,
        name: &str,
        key: &str,
        optional: bool,
    ) -> Result<Option<String>, String> {
        let Some(data) = self.required(kind, name, optional).await? else {
            return Ok(None);
        };
        match data.get(key) {
            Some(v) => Ok(Some(String::from_utf8_lossy(v).into_owned())),
            None if optional => Ok(None),
            None => {
                let kind = if kind == "secret" {
                    "Secret"
                } else {
                    "ConfigMap"
                };
                Err(format!(
                    "couldn't find key {key} in {kind} {}/{name}",
                    self.namespace
                ))
            }
        }
    }
}

/// The environment of `container`, or the message of a CreateContainerConfigError.
pub async fn container_env(
    sources: &Sources,
    pod: &Pod,
    container: &Container,
    services: &[ServiceEnv],
) -> Result<Vec<(String, String)>, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let set = |env: &mut Vec<(String, String)>, k: String, v: String| {
        env.retain(|(n, _)| *n != k);
        env.push((k, v));
    };
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        let data = if let Some(s) = &from.secret_ref {
            sources
                .required("secret", &s.name, s.optional == Some(true))
                .await?
        } else if let Some(c) = &from.config_map_ref {
            sources
                .required("configmap", &c.name, c.optional == Some(true))
                .await?
        } else {
            None
        };
        for (k, v) in data.unwrap_or_default() {
            set(
                &mut env,
                format!("{prefix}{k}"),
                String::from_utf8_lossy(&v).into_owned(),
            );
        }
    }
    let service_vars = service_variables(services);
    for var in container.env.iter().flatten() {
        let value = if let Some(v) = &var.value {
            let lookup = |name: &str| {
                env.iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .or_else(|| service_vars.iter().find(|(k, _)| k == name))
                    .map(|(_, v)| v.clone())
            };
            expand::expand(v, lookup)
        } else if let Some(from) = &var.value_from {
            let resolved = if let Some(s) = &from.secret_key_ref {
                sources
                    .key("secret", &s.name, &s.key, s.optional == Some(true))
                    .await?
            } else if let Some(c) = &from.config_map_key_ref {
                sources
                    .key("configmap", &c.name, &c.key, c.optional == Some(true))
                    .await?
            } else if let Some(f) = &from.field_ref {
                Some(field_value(pod, f)?)
            } else if let Some(r) = &from.resource_field_ref {
                // Resource limits are not enforced; report what is declared (or 0).
                let res = container.resources.clone().unwrap_or_default();
                let (kind, name) = r.resource.split_once('.').unwrap_or(("limits", "cpu"));
                let map = if kind == "requests" {
                    res.requests
                } else {
                    res.limits
                };
                Some(
                    map.and_then(|m| m.get(name).map(|q| q.0.clone()))
                        .unwrap_or_else(|| "0".into()),
                )
            } else {
                None
            };
            match resolved {
                Some(v) => v,
                None => continue,
            }
        } else {
            String::new()
        };
        set(&mut env, var.name.clone(), value);
    }
    let mut all = runtime_defaults(pod);
    for (k, v) in service_vars {
        all.retain(|(n, _)| *n != k);
        all.push((k, v));
    }
    for (k, v) in env {
        all.retain(|(n, _)| *n != k);
        all.push((k, v));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_variables_look_like_docker_links() {
        let vars = service_variables(&[ServiceEnv {
            name: "my-db".into(),
            ip: "127.0.0.1".into(),
            ports: vec![(Some("mysql".into()), 3306, "TCP".into())],
        }]);
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("MY_DB_SERVICE_HOST"), Some("127.0.0.1"));
        assert_eq!(get("MY_DB_SERVICE_PORT"), Some("3306"));
        assert_eq!(get("MY_DB_SERVICE_PORT_MYSQL"), Some("3306"));
        assert_eq!(get("MY_DB_PORT"), Some("tcp://127.0.0.1:3306"));
        assert_eq!(get("MY_DB_PORT_3306_TCP_ADDR"), Some("127.0.0.1"));
    }

    #[test]
    fn field_refs() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        pod.metadata.namespace = Some("ns".into());
        pod.metadata.labels = Some(BTreeMap::from([("app".to_owned(), "x".to_owned())]));
        let f = |p: &str| {
            field_value(
                &pod,
                &ObjectFieldSelector {
                    field_path: p.into(),
                    api_version: None,
                },
            )
        };
        assert_eq!(f("metadata.name").unwrap(), "p");
        assert_eq!(f("metadata.namespace").unwrap(), "ns");
        assert_eq!(f("metadata.labels['app']").unwrap(), "x");
        assert_eq!(f("spec.serviceAccountName").unwrap(), "default");
        assert_eq!(f("status.podIP").unwrap(), "127.0.0.1");
        assert!(f("spec.bogus").is_err());
    }
}
