//! Admission webhooks over HTTPS: a mutating webhook's JSONPatch is applied, a validating
//! webhook's refusal reaches kubectl, namespaceSelector and failurePolicy are honoured.

mod support;

use std::sync::Arc;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};
use support::Cluster;

fn review(req: &Value, mutating: bool) -> Value {
    let uid = req["request"]["uid"].clone();
    let obj = &req["request"]["object"];
    let mut resp = json!({"uid": uid, "allowed": true});
    if req["request"]["kind"]["kind"] == "ConfigMap" {
        if !mutating && obj.pointer("/data/bad").is_some() {
            resp = json!({"uid": uid, "allowed": false, "status": {"code": 403, "message": "bad data"}});
        } else if mutating && obj.pointer("/metadata/labels").is_none() {
            let patch =
                json!([{"op": "add", "path": "/metadata/labels", "value": {"mutated": "yes"}}]);
            resp["patchType"] = json!("JSONPatch");
            resp["patch"] =
                json!(base64::engine::general_purpose::STANDARD.encode(patch.to_string()));
        }
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": resp})
}

/// A webhook server on 127.0.0.1 using the cluster's own server certificate.
async fn webhook_server(c: &Cluster) -> u16 {
    let dir = c.dir.path();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.crt"))
        .expect("cert")
        .collect::<Result<_, _>>()
        .expect("cert");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("key");
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("tls")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("cert");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let mutating = req.uri().path() == "/mutate";
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let out = review(&v, mutating).to_string();
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                        bytes::Bytes::from(out),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutating_and_validating_webhooks() {
    let c = Cluster::start();
    let port = webhook_server(&c).await;
    let ca = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(c.dir.path().join("ca.crt")).expect("ca"));
    c.kubectl_ok(&["create", "namespace", "hooked"]);
    c.kubectl_ok(&["label", "namespace", "hooked", "webhook=on"]);
    let hook = |kind: &str, name: &str, policy: &str, url: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nwebhooks:\n- name: {name}.cairn.test\n  \
             admissionReviewVersions: [v1]\n  sideEffects: None\n  failurePolicy: {policy}\n  \
             namespaceSelector: {{matchLabels: {{webhook: \"on\"}}}}\n  clientConfig: {{url: \"{url}\", caBundle: {ca}}}\n  \
             rules: [{{operations: [CREATE, UPDATE], apiGroups: [\"\"], apiVersions: [v1], resources: [configmaps]}}]\n"
        )
    };
    let mutate = format!("https://127.0.0.1:{port}/mutate");
    let validate = format!("https://127.0.0.1:{port}/validate");
    c.kubectl_stdin_ok(
        &["apply", "-f", "-"],
        &hook("MutatingWebhookConfiguration", "mutate", "Fail", &mutate),
    );
    c.kubectl_stdin_ok(
        &["apply", "-f", "-"],
        &hook(
            "ValidatingWebhookConfiguration",
            "validate",
            "Fail",
            &validate,
        ),
    );

    c.kubectl_ok(&[
        "create",
        "configmap",
        "a",
        "-n",
        "hooked",
        "--from-literal=k=v",
    ]);
    assert_eq!(
        c.kubectl_ok(&[
            "get",
            "cm",
            "a",
            "-n",
            "hooked",
            "-o",
            "jsonpath={.metadata.labels.mutated}"
        ]),
        "yes"
    );
    let err = c.kubectl_err(
        &[
            "create",
            "configmap",
            "b",
            "-n",
            "hooked",
            "--from-literal=bad=1",
        ],
        None,
    );
    assert!(
        err.contains(r#"admission webhook "validate.cairn.test" denied the request: bad data"#),
        "{err}"
    );
    // Outside the selected namespaces nothing is called.
    c.kubectl_ok(&[
        "create",
        "configmap",
        "b",
        "-n",
        "default",
        "--from-literal=bad=1",
    ]);

    // An unreachable webhook: Ignore lets writes through, Fail refuses them.
    c.kubectl_ok(&["delete", "validatingwebhookconfiguration", "validate"]);
    c.kubectl_ok(&["delete", "mutatingwebhookconfiguration", "mutate"]);
    let dead = "https://127.0.0.1:1/admit";
    c.kubectl_stdin_ok(
        &["apply", "-f", "-"],
        &hook("ValidatingWebhookConfiguration", "dead", "Ignore", dead),
    );
    c.kubectl_ok(&["create", "configmap", "c", "-n", "hooked"]);
    c.kubectl_stdin_ok(
        &["apply", "-f", "-"],
        &hook("ValidatingWebhookConfiguration", "dead", "Fail", dead),
    );
    let err = c.kubectl_err(&["create", "configmap", "d", "-n", "hooked"], None);
    assert!(
        err.contains(r#"failed calling webhook "dead.cairn.test""#),
        "{err}"
    );
}
