//! The pod's /etc/hosts. The test cluster has no DNS, so Service names resolve through it:
//! `<svc>` (same namespace), `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local`
//! map to the Service's clusterIP.

use std::fmt::Write as _;

/// A Service as /etc/hosts sees it.
#[derive(Clone, Debug)]
pub struct ServiceAddress {
    /// Service name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its clusterIP (`None` and headless Services resolve to 127.0.0.1: every pod is local).
    pub ip: String,
}

/// The hosts file of pod `hostname` in `namespace`.
pub fn render(hostname: &str, namespace: &str, services: &[ServiceAddress]) -> String {
    let mut out = String::from(
        "# Kubernetes-managed hosts file (test cluster: Services included).\n\
         127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    let _ = writeln!(out, "127.0.0.1\t{hostname}");
    let mut sorted: Vec<&ServiceAddress> = services.iter().collect();
    sorted.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for s in sorted {
        let (n, ns) = (&s.name, &s.namespace);
        let short = if *ns == namespace {
            format!("{n} ")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{}\t{short}{n}.{ns} {n}.{ns}.svc {n}.{ns}.svc.cluster.local",
            s.ip
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_resolve_by_every_name() {
        let svcs = [
            ServiceAddress {
                name: "db".into(),
                namespace: "app".into(),
                ip: "127.0.0.1".into(),
            },
            ServiceAddress {
                name: "kubernetes".into(),
                namespace: "default".into(),
                ip: "127.0.0.1".into(),
            },
        ];
        let hosts = render("pod-1", "app", &svcs);
        assert!(hosts.contains("127.0.0.1\tlocalhost\n"));
        assert!(hosts.contains("127.0.0.1\tpod-1\n"));
        assert!(hosts.contains("127.0.0.1\tdb db.app db.app.svc db.app.svc.cluster.local\n"));
        assert!(hosts.contains(
            "127.0.0.1\tkubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local\n"
        ));
    }
}
