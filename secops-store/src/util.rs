use chrono::{DateTime, SubsecRound, Utc};
use secops_core::tenancy::Role;

use crate::error::{StoreError, StoreResult};

/// Now, at the microsecond precision both databases keep, so a value read back equals the value written.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn parse_role(s: &str) -> StoreResult<Role> {
    s.parse()
        .map_err(|_| StoreError::Database(format!("stored role `{s}` is unknown")))
}
