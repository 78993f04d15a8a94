//! TLS to a real private MariaDB with a self-signed CA: verification, client certificates,
//! server name override, the opt-out, and the errors users see when one of them is wrong.

use std::time::Duration;

use cairn_db::conn::{DbTarget, Error, Secret, TlsOptions};
use cairn_testkit::{MariaDb, TestCa};
use mysql_async::prelude::Queryable;

mod support;
use support::runtime;

const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The only name in the MariaDB server certificate (no IP SAN: connecting to 127.0.0.1 needs
/// the server name override, as connecting to a Pod IP in Kubernetes does).
const SERVER_NAME: &str = "db.cairn.test";

fn target(db: &MariaDb, user: &str, password: &str, tls: Option<TlsOptions>) -> DbTarget {
    DbTarget::parse_url(&db.url_for(user))
        .unwrap()
        .with_password(Some(Secret::new(password)))
        .with_tls(tls)
}

/// `Ssl_cipher` of the session (empty in plain TCP).
async fn ssl_cipher(target: &DbTarget) -> Result<String, Error> {
    let mut conn = target.connect().await?;
    let row: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .map_err(|e| Error::query("SHOW STATUS", e))?;
    conn.disconnect().await.ok();
    Ok(row.map(|(_, v)| v).unwrap_or_default())
}

fn verified(ca: &TestCa, client: Option<&cairn_testkit::CertPair>) -> TlsOptions {
    TlsOptions {
        ca_pem: Some(ca.cert_pem().unwrap()),
        client_cert_pem: client.map(|c| c.cert_pem().unwrap()),
        client_key_pem: client.map(|c| c.key_pem().unwrap()),
        ..TlsOptions::default()
    }
    .with_server_name(Some(SERVER_NAME.into()))
}

#[test]
fn tls_verifies_server_presents_client_cert_and_explains_failures() {
    let ca = TestCa::new("Cairn Test CA").unwrap();
    let rogue = TestCa::new("Rogue CA").unwrap();
    let server = ca.issue_server("mariadb", &["DNS:db.cairn.test"]).unwrap();
    let client = ca.issue_client("cairn-backup").unwrap();
    let db = MariaDb::start_with_tls(&ca, &server).unwrap();
    db.create_user("x509user", "pw-x509", "X509").unwrap();
    db.create_user("ssluser", "pw-ssl", "SSL").unwrap();
    let rt = runtime();
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            // Verified against the CA, with a client certificate: encrypted.
            let t = target(
                &db,
                "x509user",
                "pw-x509",
                Some(verified(&ca, Some(&client))),
            );
            let cipher = ssl_cipher(&t).await.unwrap();
            assert!(!cipher.is_empty(), "Ssl_cipher is empty: not encrypted");

            // REQUIRE SSL without client certificate.
            let t = target(&db, "ssluser", "pw-ssl", Some(verified(&ca, None)));
            assert!(!ssl_cipher(&t).await.unwrap().is_empty());

            // Plain TCP still works for an account without REQUIRE, and is not encrypted.
            let t = target(&db, "root", db.password(), None);
            assert_eq!(ssl_cipher(&t).await.unwrap(), "");

            // The opt-out: any certificate, any name, still encrypted.
            let skip = TlsOptions::default().with_insecure_skip_verify(true);
            let t = target(&db, "ssluser", "pw-ssl", Some(skip));
            assert!(!ssl_cipher(&t).await.unwrap().is_empty());

            // A CA that did not sign the server certificate.
            let mut wrong = verified(&ca, None);
            wrong.ca_pem = Some(rogue.cert_pem().unwrap());
            let err = ssl_cipher(&target(&db, "ssluser", "pw-ssl", Some(wrong)))
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::Tls { .. }), "{msg}");
            assert!(
                msg.contains("TLS handshake with 127.0.0.1:")
                    && msg.contains("unknown authority")
                    && msg.contains("--db-ca-file"),
                "{msg}"
            );

            // The right CA, but the address is not a name the certificate holds.
            let no_name = verified(&ca, None).with_server_name(None);
            let err = ssl_cipher(&target(&db, "ssluser", "pw-ssl", Some(no_name)))
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("--db-server-name"), "{err}");

            // REQUIRE X509 without a client certificate: denied, with the way out.
            let t = target(&db, "x509user", "pw-x509", Some(verified(&ca, None)));
            let err = ssl_cipher(&t).await.unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::AccessDenied { .. }), "{msg}");
            assert!(msg.contains("--db-cert-file"), "{msg}");

            // REQUIRE SSL over plain TCP: denied, with the way out.
            let err = ssl_cipher(&target(&db, "ssluser", "pw-ssl", None))
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("--db-ca-file"), "{err}");

            // A client certificate from another CA is refused by the server.
            let foreign = rogue.issue_client("intruder").unwrap();
            let t = target(
                &db,
                "x509user",
                "pw-x509",
                Some(verified(&ca, Some(&foreign))),
            );
            let err = ssl_cipher(&t).await.unwrap_err().to_string();
            assert!(
                err.contains("client certificate") || err.contains("access denied"),
                "{err}"
            );
            for secret in ["pw-x509", "pw-ssl", db.password()] {
                assert!(!err.contains(secret), "secret in error: {err}");
            }
        })
        .await
        .expect("TLS test timed out");
    });
}

#[test]
fn tls_to_a_server_without_tls_says_so() {
    let db = MariaDb::start().unwrap();
    let t = target(
        &db,
        "root",
        db.password(),
        Some(TlsOptions::default().with_insecure_skip_verify(true)),
    );
    let err = runtime()
        .block_on(async { tokio::time::timeout(TEST_TIMEOUT, ssl_cipher(&t)).await })
        .expect("timed out")
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not offer TLS"), "{err}");
}

#[test]
fn bad_pem_is_reported_before_connecting() {
    let t = DbTarget::new("127.0.0.1", 1, "u").with_tls(Some(TlsOptions {
        ca_pem: Some(b"garbage".to_vec()),
        ..TlsOptions::default()
    }));
    let err = runtime().block_on(t.connect()).unwrap_err();
    assert!(matches!(err, Error::TlsConfig { .. }), "{err}");
    assert_eq!(err.category(), "TlsConfig");
}
