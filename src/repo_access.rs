//! Opening a repository from the command line's `--repo` and password options.

use crate::cli::RepoArgs;
use crate::password::read_password_file;
use anyhow::{Context, Result};
use cairn_storage::{open_store, BackendOptions, Location, Password, Repo};
use object_store::ObjectStore;
use std::sync::Arc;
use tokio::runtime::Handle;

/// A repository address resolved to a store, with its password.
pub struct RepoAccess {
    /// The address as the user wrote it (for messages).
    pub label: String,
    /// The object store rooted at the repository.
    pub store: Arc<dyn ObjectStore>,
    /// The repository password.
    pub password: Password,
}

impl RepoAccess {
    /// Parses the address, builds the store and finds the password.
    pub fn from_args(args: &RepoArgs) -> Result<Self> {
        let location = Location::parse(&args.repo)
            .with_context(|| format!("invalid repository address {:?}", args.repo))?;
        let mut options = BackendOptions::from_env();
        if args.insecure_tls {
            options.insecure_tls = true;
        }
        if let Some(path) = &args.ca_file {
            let pem = std::fs::read(path).with_context(|| {
                format!(
                    "cannot read the CA certificate file {} given with --ca-file (or RESTIC_CACERT)",
                    path.display()
                )
            })?;
            options.ca_cert = Some(pem);
        }
        let store = open_store(&location, &options)
            .with_context(|| format!("cannot open storage for repository {}", args.repo))?;
        let password = match &args.password_file {
            Some(path) => Password::new(read_password_file(path, "repository")?),
            None => Password::from_env().with_context(|| {
                format!(
                    "no password for repository {}: set RESTIC_PASSWORD or RESTIC_PASSWORD_FILE, or pass --password-file",
                    args.repo
                )
            })?,
        };
        Ok(Self {
            label: location.to_string(),
            store,
            password,
        })
    }

    /// Opens the existing repository (blocking work runs off the async threads).
    pub async fn open(&self) -> Result<Arc<Repo>> {
        let (store, label, password) = (
            self.store.clone(),
            self.label.clone(),
            self.password.clone(),
        );
        let rt = Handle::current();
        let repo = tokio::task::spawn_blocking(move || Repo::open(store, &label, &password, rt))
            .await
            .context("repository open task failed")??;
        Ok(Arc::new(repo))
    }

    /// Creates a new repository.
    pub async fn init(&self) -> Result<Arc<Repo>> {
        let (store, label, password) = (
            self.store.clone(),
            self.label.clone(),
            self.password.clone(),
        );
        let rt = Handle::current();
        let repo = tokio::task::spawn_blocking(move || {
            // An init killed before its config left a key that would shadow ours.
            cairn_storage::interrupted_init::remove_keys_of_interrupted_init(&store, &label, &rt)?;
            Repo::init(store, &label, &password, rt)
        })
        .await
        .context("repository init task failed")??;
        Ok(Arc::new(repo))
    }
}

/// Runs blocking repository work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("background task failed")?
}
