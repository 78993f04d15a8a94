//! Authentication (bearer tokens) and authorization (RBAC).

pub mod rbac;
pub mod tokens;

/// An authenticated identity.
#[derive(Debug, Clone)]
pub struct User {
    /// `admin`, `system:serviceaccount:ns:name`.
    pub name: String,
    /// Groups (`system:masters`, `system:serviceaccounts`, ...).
    pub groups: Vec<String>,
    /// The ServiceAccount's uid, for SA identities.
    pub uid: String,
}

impl User {
    /// Members of `system:masters` bypass authorization, as upstream.
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == "system:masters")
    }
}
