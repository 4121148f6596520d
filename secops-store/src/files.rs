//! Where attachment bytes live: a [`FileStore`] trait, a local directory (the embedded default) and any
//! `object_store` backend (S3 and S3-compatible stores such as MinIO, or in memory for tests).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::{StoreError, StoreResult};

/// Where attachment bytes are kept. Keys are chosen by the store and never come from users.
#[async_trait::async_trait]
pub trait FileStore: Send + Sync {
    /// Stores `bytes` under `key`.
    async fn put(&self, key: &str, bytes: &[u8]) -> StoreResult<()>;
    /// Reads the bytes under `key`.
    async fn get(&self, key: &str) -> StoreResult<Vec<u8>>;
    /// Removes `key` (no error if it is already gone).
    async fn delete(&self, key: &str) -> StoreResult<()>;
}

/// Files in a local directory (the embedded default).
#[derive(Debug, Clone)]
pub struct LocalFileStore {
    root: PathBuf,
}

impl LocalFileStore {
    /// Files under `root`, created if missing.
    pub fn new(root: impl AsRef<Path>) -> StoreResult<Self> {
        std::fs::create_dir_all(root.as_ref())
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", root.as_ref().display())))?;
        Ok(Self {
            root: root.as_ref().to_path_buf(),
        })
    }

    fn path(&self, key: &str) -> StoreResult<PathBuf> {
        // Keys are `org/uuid`; refuse anything else so a key can never climb out of the root.
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'/')
            || key.contains("//")
        {
            return Err(StoreError::InvalidInput("bad file key".into()));
        }
        Ok(self.root.join(key))
    }
}

#[async_trait::async_trait]
impl FileStore for LocalFileStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> StoreResult<()> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| StoreError::Database(format!("file store: {e}")))?;
        }
        tokio::fs::write(&path, bytes)
            .await
            .map_err(|e| StoreError::Database(format!("file store: {e}")))
    }

    async fn get(&self, key: &str) -> StoreResult<Vec<u8>> {
        tokio::fs::read(self.path(key)?)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StoreError::NotFound("file"),
                _ => StoreError::Database(format!("file store: {e}")),
            })
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::Database(format!("file store: {e}"))),
        }
    }
}

/// Checks that a key is one the store made (`<org uuid>/<attachment uuid>`), never user input.
fn check_key(key: &str) -> StoreResult<()> {
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'/')
        || key.contains("//")
    {
        return Err(StoreError::InvalidInput("bad file key".into()));
    }
    Ok(())
}

/// Files in any `object_store` backend, under an optional prefix.
#[derive(Debug, Clone)]
pub struct ObjectStoreFiles {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl ObjectStoreFiles {
    /// Files in `store`, with keys under `prefix` (e.g. `secops/attachments`).
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        Self {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
        }
    }

    /// An S3 bucket (or an S3-compatible endpoint such as MinIO when `endpoint` is set). Credentials come from
    /// the arguments or, when `None`, from the usual AWS environment variables.
    pub fn s3(
        bucket: &str,
        region: &str,
        endpoint: Option<&str>,
        access_key: Option<&str>,
        secret_key: Option<&str>,
        prefix: &str,
    ) -> StoreResult<Self> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(region);
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let (Some(access), Some(secret)) = (access_key, secret_key) {
            builder = builder.with_access_key_id(access).with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| StoreError::Config(format!("S3 file store: {e}")))?;
        Ok(Self::new(Arc::new(store), prefix))
    }

    fn path(&self, key: &str) -> StoreResult<ObjectPath> {
        check_key(key)?;
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        ObjectPath::parse(full).map_err(|e| StoreError::InvalidInput(format!("bad file key: {e}")))
    }
}

#[async_trait::async_trait]
impl FileStore for ObjectStoreFiles {
    async fn put(&self, key: &str, bytes: &[u8]) -> StoreResult<()> {
        self.store
            .put(&self.path(key)?, bytes.to_vec().into())
            .await
            .map(|_| ())
            .map_err(|e| StoreError::Database(format!("file store: {e}")))
    }

    async fn get(&self, key: &str) -> StoreResult<Vec<u8>> {
        match self.store.get(&self.path(key)?).await {
            Ok(result) => result
                .bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|e| StoreError::Database(format!("file store: {e}"))),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound("file")),
            Err(e) => Err(StoreError::Database(format!("file store: {e}"))),
        }
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::Database(format!("file store: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn object_store_files_round_trip_and_refuse_bad_keys() {
        let files = ObjectStoreFiles::new(
            Arc::new(object_store::memory::InMemory::new()),
            "/secops/attachments/",
        );
        let key = format!("{}/{}", uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        files.put(&key, b"pcap").await.unwrap();
        assert_eq!(files.get(&key).await.unwrap(), b"pcap");
        files.delete(&key).await.unwrap();
        files.delete(&key).await.unwrap();
        assert!(matches!(files.get(&key).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            files.put("../../etc/passwd", b"x").await,
            Err(StoreError::InvalidInput(_))
        ));
        let local =
            LocalFileStore::new(std::env::temp_dir().join(format!("secops-files-{}", uuid::Uuid::now_v7())))
                .unwrap();
        assert!(matches!(
            local.get("../secret").await,
            Err(StoreError::InvalidInput(_))
        ));
    }

    #[test]
    fn s3_configuration_builds_without_network() {
        let files = ObjectStoreFiles::s3(
            "evidence",
            "eu-central-1",
            Some("http://127.0.0.1:9000"),
            Some("minio"),
            Some("minio-secret"),
            "secops",
        );
        assert!(files.is_ok());
    }
}
