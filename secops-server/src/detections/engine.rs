//! Each organisation's compiled rules and correlation state, rebuilt when its enabled rules change.
//!
//! The state lives in this process: correlation windows (event counts, value counts, temporal sequences) span
//! the events this process ingested. Run event ingestion on one replica, or route an organisation's events to
//! the same replica, for correlations across requests to see every event.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use secops_core::tenancy::{OrgId, RuleId};
use secops_detect::correlation::{CorrelationOptions, CorrelationState};
use secops_detect::engine::{DetectionEngine, RsigmaEngine};
use secops_detect::rules::{LoadOptions, RuleSet};
use secops_store::TenantTx;
use secops_store::detections::Rule;

use crate::error::{ApiError, ApiResult};

/// An organisation's compiled rules.
pub(crate) struct OrgEngine {
    /// Which rule versions it was built from.
    fingerprint: Vec<(RuleId, i64)>,
    /// The stored rule of each Sigma id, to link detections to it.
    pub(crate) stored: HashMap<String, RuleId>,
    /// The rules and their correlation windows (CPU work, done off the async threads).
    pub(crate) state: Mutex<CorrelationState<OrgId>>,
    /// The compiled rules (what coverage reads, without compiling them again).
    pub(crate) engine: Arc<dyn DetectionEngine>,
}

/// The engines of every organisation that ingested events.
#[derive(Default)]
pub struct OrgEngines {
    built: Mutex<HashMap<OrgId, Arc<OrgEngine>>>,
}

impl std::fmt::Debug for OrgEngines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrgEngines")
    }
}

/// Every enabled rule of the organisation.
pub(crate) async fn enabled_rules(tx: &mut TenantTx) -> ApiResult<Vec<Rule>> {
    let mut out = Vec::new();
    let mut page = secops_store::PageRequest::first(200);
    loop {
        let got = tx.rules(true, &page).await?;
        out.extend(got.items);
        match got.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// Compiles `rules` (every status: enabling a rule is the organisation's choice; new rules are enabled by
/// default only when `stable` or `test`).
fn compile(rules: &[Rule]) -> Result<Arc<dyn DetectionEngine>, ApiError> {
    let set = RuleSet::from_sources(
        rules.iter().map(|r| {
            (
                PathBuf::from(format!("{}.yml", r.rule.rule_uid)),
                r.rule.source_yaml.clone(),
            )
        }),
        &LoadOptions::all_statuses(),
    );
    for failure in set.failures() {
        // Rules are checked on upload; one that stopped loading (a correlation whose base rule was disabled)
        // is left out rather than stopping every other rule.
        tracing::warn!(rule = %failure.path.display(), reason = %failure.reason, "a stored rule does not load");
    }
    let engine = RsigmaEngine::new(&set).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_rules",
            format!("the organisation's rules do not compile together: {e}"),
        )
    })?;
    Ok(Arc::new(engine))
}

impl OrgEngines {
    /// The engine for the organisation's current enabled rules (read in `tx`), building it when they changed.
    pub(crate) async fn for_org(&self, org: OrgId, tx: &mut TenantTx) -> ApiResult<Arc<OrgEngine>> {
        let rules = enabled_rules(tx).await?;
        let mut fingerprint: Vec<(RuleId, i64)> = rules.iter().map(|r| (r.id, r.version)).collect();
        fingerprint.sort();
        if let Some(e) = self
            .built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&org)
            .filter(|e| e.fingerprint == fingerprint)
        {
            return Ok(Arc::clone(e));
        }
        let stored = rules.iter().map(|r| (r.rule.rule_uid.clone(), r.id)).collect();
        // Compiling thousands of rules takes a while: off the async threads.
        let engine = tokio::task::spawn_blocking(move || compile(&rules))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "compiling rules panicked");
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred",
                )
            })??;
        let built = Arc::new(OrgEngine {
            fingerprint,
            stored,
            state: Mutex::new(CorrelationState::new(
                Arc::clone(&engine),
                CorrelationOptions::default(),
            )),
            engine,
        });
        self.built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(org, Arc::clone(&built));
        Ok(built)
    }
}
