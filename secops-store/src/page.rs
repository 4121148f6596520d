use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// The largest page a list returns.
pub const MAX_PAGE: u32 = 200;

/// Which page of a list (newest first). Keyset pagination: the cursor is the last id seen, so pages stay
/// stable while rows are added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Rows per page (1 to 200; 0 means 50).
    #[serde(default)]
    pub limit: u32,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The first page of `limit` rows.
    #[must_use]
    pub fn first(limit: u32) -> Self {
        Self { limit, cursor: None }
    }

    pub(crate) fn limit(&self) -> i64 {
        i64::from(match self.limit {
            0 => 50,
            n => n.min(MAX_PAGE),
        })
    }

    /// The id bound: rows strictly before it (UUIDv7 ids sort by creation time).
    pub(crate) fn before(&self) -> StoreResult<Uuid> {
        match &self.cursor {
            None => Ok(Uuid::max()),
            Some(c) => Uuid::parse_str(c)
                .map_err(|_| StoreError::InvalidInput("the page cursor is not valid".into())),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass this to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says another page exists.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> Uuid) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| id(r).to_string())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}
