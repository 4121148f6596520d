use secops_core::model::ProviderError;

/// What went wrong in the store. The server maps each variant to one HTTP problem type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row with that id in this organisation (rows of other organisations are reported the same way).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The row changed since it was read (optimistic concurrency).
    #[error("{what} was changed by someone else (expected version {expected})")]
    Conflict {
        /// The kind of row.
        what: &'static str,
        /// The version the caller had.
        expected: i64,
    },
    /// A unique value is taken.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// The request itself is wrong (bad cursor, bad dimension, empty name, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Encrypted data could not be decrypted (wrong key or tampered bytes).
    #[error("encrypted data cannot be decrypted: wrong key or tampered data")]
    Decrypt,
    /// The configuration is unusable (bad URL, bad key, unsafe database role).
    #[error("configuration: {0}")]
    Config(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
    /// An embedding provider failed (used by callers that embed while storing).
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Duplicate("a row with that unique value");
            }
            if db.is_foreign_key_violation() {
                return StoreError::InvalidInput(
                    "it refers to a row that does not exist in this organisation".into(),
                );
            }
            if db.is_check_violation() {
                return StoreError::InvalidInput(format!("a value is not allowed: {}", db.message()));
            }
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return StoreError::NotFound("row");
        }
        // Connection strings can carry passwords; sqlx errors never include them, but keep messages short.
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(e.to_string())
    }
}

/// Short for `Result<T, StoreError>`.
pub type StoreResult<T> = Result<T, StoreError>;
