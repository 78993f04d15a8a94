//! rustic_core's synchronous backend traits over an async `ObjectStore`.
//!
//! Every call blocks on the given tokio runtime handle, so callers must run rustic from
//! `spawn_blocking` or a plain thread, never from inside an async task.
//! Object layout is restic's: `config`, `keys/ID`, `snapshots/ID`, `index/ID`, `locks/ID`,
//! `data/XX/ID` (XX = the first two hex digits).

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};
use tokio::runtime::Handle;
use tracing::trace;

/// A restic backend stored in an `ObjectStore` rooted at the repository.
#[derive(Debug, Clone)]
pub struct ObjectStoreBackend {
    store: Arc<dyn ObjectStore>,
    label: String,
    rt: Handle,
}

impl ObjectStoreBackend {
    /// Wraps `store` (rooted at the repository); `label` names it in messages.
    pub fn new(store: Arc<dyn ObjectStore>, label: impl Into<String>, rt: Handle) -> Self {
        Self {
            store,
            label: label.into(),
            rt,
        }
    }

    /// The object path of a repository file.
    pub fn path(tpe: FileType, id: &Id) -> Path {
        let hex = id.to_hex();
        let hex = hex.as_str();
        match tpe {
            FileType::Config => Path::from("config"),
            FileType::Pack => Path::from(format!("data/{}/{hex}", &hex[..2])),
            other => Path::from(format!("{}/{hex}", other.dirname())),
        }
    }

    fn fail(&self, op: &str, path: &Path, err: object_store::Error) -> Box<RusticError> {
        RusticError::with_source(
            ErrorKind::Backend,
            "storage `{op}` of `{path}` in `{repo}` failed",
            err,
        )
        .attach_context("op", op.to_owned())
        .attach_context("path", path.to_string())
        .attach_context("repo", self.label.clone())
    }
}

impl ReadBackend for ObjectStoreBackend {
    fn location(&self) -> String {
        self.label.clone()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            let path = Path::from("config");
            return match self.rt.block_on(self.store.head(&path)) {
                Ok(meta) => Ok(vec![(Id::default(), size_u32(meta.size))]),
                Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
                Err(e) => Err(self.fail("head", &path, e)),
            };
        }
        let prefix = Path::from(tpe.dirname());
        let metas: Vec<_> = self
            .rt
            .block_on(self.store.list(Some(&prefix)).try_collect())
            .map_err(|e| self.fail("list", &prefix, e))?;
        let ids: Vec<_> = metas
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?;
                Id::parse_some(name, tpe).map(|id| (id, size_u32(m.size)))
            })
            .collect();
        trace!(repo = %self.label, %tpe, count = ids.len(), "listed");
        Ok(ids)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        let path = Self::path(tpe, id);
        self.rt
            .block_on(async { self.store.get(&path).await?.bytes().await })
            .map_err(|e| self.fail("get", &path, e))
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        let path = Self::path(tpe, id);
        let range = u64::from(offset)..u64::from(offset) + u64::from(length);
        self.rt
            .block_on(self.store.get_range(&path, range))
            .map_err(|e| self.fail("get_range", &path, e))
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        Self::path(tpe, id).to_string()
    }
}

impl WriteBackend for ObjectStoreBackend {
    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        let path = Self::path(tpe, id);
        let payload: PutPayload = content.into_vec().into_iter().collect();
        trace!(repo = %self.label, %path, size = payload.content_length(), "put");
        self.rt
            .block_on(self.store.put(&path, payload))
            .map(|_| ())
            .map_err(|e| self.fail("put", &path, e))
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let path = Self::path(tpe, id);
        match self.rt.block_on(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.fail("delete", &path, e)),
        }
    }
}

fn size_u32(size: u64) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn paths_follow_restic_layout() {
        let id: Id = "ab".repeat(32).parse().unwrap();
        let hex = "ab".repeat(32);
        assert_eq!(
            ObjectStoreBackend::path(FileType::Pack, &id).to_string(),
            format!("data/ab/{hex}")
        );
        assert_eq!(
            ObjectStoreBackend::path(FileType::Key, &id).to_string(),
            format!("keys/{hex}")
        );
        assert_eq!(
            ObjectStoreBackend::path(FileType::Snapshot, &id).to_string(),
            format!("snapshots/{hex}")
        );
        assert_eq!(
            ObjectStoreBackend::path(FileType::Index, &id).to_string(),
            format!("index/{hex}")
        );
        assert_eq!(
            ObjectStoreBackend::path(FileType::Config, &id).to_string(),
            "config"
        );
    }

    #[test]
    fn write_list_read_remove_round_trip() {
        let rt = rt();
        let be = ObjectStoreBackend::new(Arc::new(InMemory::new()), "mem", rt.handle().clone());
        let id: Id = "0f".repeat(32).parse().unwrap();
        assert!(be.list(FileType::Config).unwrap().is_empty());
        be.write_bytes(
            FileType::Pack,
            &id,
            false,
            Bytes::from_static(b"hello world").into(),
        )
        .unwrap();
        be.write_bytes(
            FileType::Config,
            &Id::default(),
            false,
            Bytes::from_static(b"c").into(),
        )
        .unwrap();
        assert_eq!(be.list_with_size(FileType::Pack).unwrap(), vec![(id, 11)]);
        assert_eq!(be.list(FileType::Config).unwrap().len(), 1);
        assert_eq!(
            &be.read_full(FileType::Pack, &id).unwrap()[..],
            b"hello world"
        );
        assert_eq!(
            &be.read_partial(FileType::Pack, &id, false, 6, 5).unwrap()[..],
            b"world"
        );
        be.remove(FileType::Pack, &id, false).unwrap();
        be.remove(FileType::Pack, &id, false).unwrap();
        assert!(be.list(FileType::Pack).unwrap().is_empty());
        let err = be.read_full(FileType::Pack, &id).unwrap_err().to_string();
        assert!(err.contains("data/0f/"), "{err}");
    }
}
