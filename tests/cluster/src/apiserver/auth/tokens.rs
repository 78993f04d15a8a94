//! Bearer tokens: the admin token and ServiceAccount tokens issued by TokenRequest.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{json, Value};

use super::User;

/// A ServiceAccount token's binding.
#[derive(Debug, Clone)]
struct SaToken {
    namespace: String,
    name: String,
    uid: String,
    expires: i64,
    bound_pod_uid: Option<String>,
}

/// Known tokens.
pub struct Tokens {
    admin: String,
    sa: HashMap<String, SaToken>,
}

/// Why a token does not authenticate.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unknown, expired, or its ServiceAccount/pod is gone.
    #[error("invalid bearer token")]
    Invalid,
}

impl Tokens {
    /// Tokens with this admin token.
    pub fn new(admin: String) -> Self {
        Tokens {
            admin,
            sa: HashMap::new(),
        }
    }

    /// Issues a JWT-shaped token for a ServiceAccount (the server keeps it; the signature is
    /// random, nothing verifies it but this server).
    pub fn issue(
        &mut self,
        namespace: &str,
        name: &str,
        uid: &str,
        expires: i64,
        audiences: &[String],
        bound_pod_uid: Option<String>,
    ) -> String {
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let header = json!({"alg": "RS256", "kid": "cairn-test-cluster"});
        let claims = json!({
            "aud": audiences,
            "exp": expires,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        });
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        let token = format!("{}.{}.{sig}", b64(&header), b64(&claims));
        self.sa.insert(
            token.clone(),
            SaToken {
                namespace: namespace.into(),
                name: name.into(),
                uid: uid.into(),
                expires,
                bound_pod_uid,
            },
        );
        token
    }

    /// The user of a token; `exists(uid)` tells whether a bound object still exists.
    pub fn authenticate(
        &self,
        token: &str,
        now: i64,
        exists: impl Fn(&str) -> bool,
    ) -> Result<User, TokenError> {
        if token == self.admin {
            return Ok(User {
                name: "admin".into(),
                groups: vec!["system:masters".into(), "system:authenticated".into()],
                uid: String::new(),
            });
        }
        let t = self.sa.get(token).ok_or(TokenError::Invalid)?;
        if t.expires < now
            || !exists(&t.uid)
            || t.bound_pod_uid.as_deref().is_some_and(|p| !exists(p))
        {
            return Err(TokenError::Invalid);
        }
        Ok(User {
            name: format!("system:serviceaccount:{}:{}", t.namespace, t.name),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{}", t.namespace),
                "system:authenticated".into(),
            ],
            uid: t.uid.clone(),
        })
    }
}
