//! Detection rules (Sigma YAML per organisation, linted and validated on upload), event ingestion that runs
//! them, and ATT&CK coverage of the enabled rules.

use std::path::PathBuf;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use secops_core::tenancy::{Permission, RuleId};
use secops_detect::attack::Catalogue;
use secops_detect::coverage::Coverage;
use secops_detect::events::normalise;
use secops_detect::rules::{FailureReason, LintSeverity, LoadOptions, RuleSet, RuleStatus, lint};
use secops_store::detections::{NewDetection, NewRule, Rule};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{DetectionView, engine, views};
use crate::application::triage::start_triage;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams};
use crate::state::AppState;

/// The name an uploaded rule is compiled under, to tell it apart from the organisation's stored rules.
const UPLOAD: &str = "upload.yml";

/// Most events one ingest request may carry.
pub const MAX_EVENTS_PER_REQUEST: usize = 10_000;

/// A rule as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    /// The stored rule's id.
    pub id: uuid::Uuid,
    /// The rule's own id (Sigma `id`).
    pub rule_uid: String,
    /// Title.
    pub title: String,
    /// `stable`, `test`, `experimental`, `deprecated` or `unsupported`.
    pub status: String,
    /// Level.
    pub level: String,
    /// Author(s), shown with every detection.
    pub author: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Whether it runs on ingested events.
    pub enabled: bool,
    /// The YAML as uploaded.
    pub yaml: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Send it back when changing it.
    pub version: i64,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        Self {
            id: *r.id.as_uuid(),
            rule_uid: r.rule.rule_uid,
            title: r.rule.title,
            status: r.rule.status,
            level: r.rule.level,
            author: r.rule.author,
            tags: r.rule.tags,
            enabled: r.rule.enabled,
            yaml: r.rule.source_yaml,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

/// A page of rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulePage {
    /// Rules, newest first.
    pub items: Vec<RuleView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Uploads a rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRuleRequest {
    /// One Sigma rule (detection or correlation) as YAML.
    pub yaml: String,
    /// Whether it runs; by default only `stable` and `test` rules do.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A problem in an uploaded rule, at a 1-based line and column.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleIssue {
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
    /// `warning`, `info` or `hint` (errors refuse the upload).
    pub severity: String,
    /// A stable name for the check.
    pub code: String,
    /// What is wrong.
    pub message: String,
}

/// An uploaded rule, and the warnings its lint found.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedRule {
    /// The stored rule.
    pub rule: RuleView,
    /// Warnings (errors refuse the upload).
    pub warnings: Vec<RuleIssue>,
}

/// Enables or disables a rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRuleRequest {
    /// The version you read.
    pub version: i64,
    /// Whether it runs.
    pub enabled: bool,
}

/// Filters for listing rules.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RuleQuery {
    /// Only enabled rules.
    #[serde(default)]
    pub enabled_only: bool,
    /// Rows per page (1 to 200, default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn issue(i: &secops_detect::rules::LintIssue) -> RuleIssue {
    RuleIssue {
        line: i.line,
        column: i.column,
        severity: match i.severity {
            LintSeverity::Error => "error",
            LintSeverity::Warning => "warning",
            LintSeverity::Info => "info",
            LintSeverity::Hint => "hint",
        }
        .into(),
        code: i.code.clone(),
        message: i.message.clone(),
    }
}

fn invalid_rule(detail: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_rule", detail)
}

/// Upload a Sigma rule, correlation or filter (a filter adds exclusions to the organisation's rules, for tuning).
/// It is linted (errors refuse it, with line and column) and compiled; it must have an
/// `id`, and correlations may only refer to rules the organisation already has.
#[utoipa::path(post, path = "/v1/detection-rules", tag = "detections", security(("bearer" = [])), request_body = UploadRuleRequest,
    responses((status = 201, body = UploadedRule), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn upload_rule(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<UploadRuleRequest>,
) -> ApiResult<(StatusCode, Json<UploadedRule>)> {
    auth.0.require(Permission::RulesWrite)?;
    if req.yaml.trim().is_empty() || req.yaml.len() > 256 * 1024 {
        return Err(invalid_rule("a rule is 1 byte to 256 KiB of YAML".into()));
    }
    let issues = lint(&req.yaml);
    if let Some(first) = issues.iter().find(|i| i.severity == LintSeverity::Error) {
        let all: Vec<String> = issues
            .iter()
            .filter(|i| i.severity == LintSeverity::Error)
            .map(ToString::to_string)
            .collect();
        return Err(invalid_rule(format!(
            "line {}, column {}: {}{}",
            first.line,
            first.column,
            first.message,
            if all.len() > 1 {
                format!(" (and {} more: {})", all.len() - 1, all[1..].join("; "))
            } else {
                String::new()
            }
        )));
    }
    let mut tx = state.store.tenant(auth.org()).await?;
    // Compiled together with the organisation's other enabled rules, so a correlation finds what it refers to.
    let mut others = engine::enabled_rules(&mut tx).await?;
    let sources = others
        .drain(..)
        .map(|r| {
            (
                PathBuf::from(format!("{}.yml", r.rule.rule_uid)),
                r.rule.source_yaml,
            )
        })
        .chain(std::iter::once((PathBuf::from(UPLOAD), req.yaml.clone())));
    let set = RuleSet::from_sources(sources, &LoadOptions::all_statuses());
    if let Some(f) = set.failures().iter().find(|f| f.path.as_os_str() == UPLOAD) {
        if f.reason == FailureReason::DuplicateId {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("a rule with this id already exists: {}", f.message),
            ));
        }
        return Err(invalid_rule(format!("{}: {}", f.reason, f.message)));
    }
    let uploaded: Vec<_> = set.metas().filter(|m| m.path.as_os_str() == UPLOAD).collect();
    let filters: Vec<_> = set
        .filters()
        .iter()
        .filter(|f| f.path.as_os_str() == UPLOAD)
        .collect();
    let new_rule = match (uploaded.as_slice(), filters.as_slice()) {
        ([meta], []) => {
            let status = meta.status.unwrap_or(RuleStatus::Experimental);
            NewRule {
                rule_uid: meta.id.clone().ok_or_else(|| {
                    invalid_rule("the rule needs an `id` (a UUID), so detections can name it".into())
                })?,
                title: meta.title.clone(),
                source_yaml: req.yaml,
                status: status.as_str().to_owned(),
                level: meta.level.map_or("medium", |l| l.as_str()).to_owned(),
                author: meta.author.clone().unwrap_or_default(),
                tags: meta.tags.clone(),
                enabled: req
                    .enabled
                    .unwrap_or(matches!(status, RuleStatus::Stable | RuleStatus::Test)),
            }
        }
        // A Sigma filter tunes the organisation's rules (exclusions for known-good activity); it applies as soon
        // as it is uploaded unless asked otherwise.
        ([], [filter]) => NewRule {
            rule_uid: filter.sigma.id.clone().ok_or_else(|| {
                invalid_rule("the filter needs an `id` (a UUID), so it can be listed and disabled".into())
            })?,
            title: filter.sigma.title.clone(),
            source_yaml: req.yaml,
            status: filter
                .sigma
                .status
                .map_or(RuleStatus::Experimental, RuleStatus::from)
                .as_str()
                .to_owned(),
            level: "informational".into(),
            author: filter.sigma.author.clone().unwrap_or_default(),
            tags: filter.sigma.tags.clone(),
            enabled: req.enabled.unwrap_or(true),
        },
        ([], []) => {
            return Err(invalid_rule(
                "the YAML holds no detection rule, correlation or filter (upload one per request)".into(),
            ));
        }
        _ => {
            return Err(invalid_rule(
                "upload one rule, correlation or filter per request".into(),
            ));
        }
    };
    let stored = tx.create_rule(new_rule).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadedRule {
            rule: stored.into(),
            warnings: issues.iter().map(issue).collect(),
        }),
    ))
}

/// List the organisation's rules.
#[utoipa::path(get, path = "/v1/detection-rules", tag = "detections", security(("bearer" = [])), params(RuleQuery),
    responses((status = 200, body = RulePage), (status = 401, body = Problem)))]
pub async fn list_rules(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<RuleQuery>,
) -> ApiResult<Json<RulePage>> {
    auth.0.require(Permission::RulesRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let page = tx
        .rules(
            q.enabled_only,
            &secops_store::PageRequest {
                limit: q.limit.unwrap_or(0),
                cursor: q.cursor,
            },
        )
        .await?;
    tx.commit().await?;
    Ok(Json(RulePage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One rule, with its YAML.
#[utoipa::path(get, path = "/v1/detection-rules/{id}", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Rule id")),
    responses((status = 200, body = RuleView), (status = 404, body = Problem)))]
pub async fn get_rule(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<RuleView>> {
    auth.0.require(Permission::RulesRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let rule = tx.rule(RuleId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(Json(rule.into()))
}

/// Enable or disable a rule (tuning without deleting it).
#[utoipa::path(patch, path = "/v1/detection-rules/{id}", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Rule id")),
    request_body = UpdateRuleRequest, responses((status = 200, body = RuleView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_rule(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<UpdateRuleRequest>,
) -> ApiResult<Json<RuleView>> {
    auth.0.require(Permission::RulesWrite)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let rule = tx
        .set_rule_enabled(RuleId::from_uuid(id), req.enabled, req.version)
        .await?;
    tx.commit().await?;
    Ok(Json(rule.into()))
}

/// Delete a rule. Its detections stay, without the link to it.
#[utoipa::path(delete, path = "/v1/detection-rules/{id}", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Rule id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::RulesWrite)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.delete_rule(RuleId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options of an ingest request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IngestQuery {
    /// Release every event held back for correlation (those up to five minutes of event time behind the
    /// newest), e.g. at the end of a historical upload. Without it, correlations fire once later events arrive.
    #[serde(default)]
    pub flush: bool,
}

/// What an ingest request did.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestReport {
    /// Events read.
    pub events: usize,
    /// The detections raised, stored, and handed to triage triggers.
    pub detections: Vec<DetectionView>,
}

/// The events of a body: a JSON array or object, or NDJSON (`application/x-ndjson`), one event per line.
fn parse_events(headers: &HeaderMap, body: &[u8]) -> ApiResult<Vec<serde_json::Value>> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let bad = |detail: String| ApiError::new(StatusCode::BAD_REQUEST, "malformed_events", detail);
    let events: Vec<serde_json::Value> = match ctype.as_str() {
        "application/json" => match serde_json::from_slice(body) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(one @ serde_json::Value::Object(_)) => vec![one],
            Ok(_) => return Err(bad("send a JSON object, an array of objects, or NDJSON".into())),
            Err(e) => return Err(bad(format!("the body is not JSON: {e}"))),
        },
        "application/x-ndjson" | "application/jsonl" | "application/json-seq" => {
            let mut out = Vec::new();
            for (n, line) in body.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                out.push(
                    serde_json::from_slice(line)
                        .map_err(|e| bad(format!("line {}: not a JSON object: {e}", n + 1)))?,
                );
            }
            out
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send application/json or application/x-ndjson",
            ));
        }
    };
    if events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_events",
            format!("at most {MAX_EVENTS_PER_REQUEST} events per request"),
        ));
    }
    if let Some(n) = events.iter().position(|e| !e.is_object()) {
        return Err(bad(format!("event {} is not a JSON object", n + 1)));
    }
    Ok(events)
}

/// Ingest events (JSON or NDJSON): they are normalised (Windows event log, Sysmon, ECS), routed by log source,
/// matched against the organisation's enabled rules and correlations, and every detection is stored and
/// handed to the agents whose detection triggers match. Nothing is stored when the body is malformed.
#[utoipa::path(post, path = "/v1/events", tag = "detections", security(("bearer" = [])), params(IngestQuery),
    request_body(content = String, description = "A JSON object or array, or NDJSON", content_type = "application/x-ndjson"),
    responses((status = 200, body = IngestReport), (status = 400, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
pub async fn ingest(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<IngestQuery>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<IngestReport>> {
    auth.0.require(Permission::EventsIngest)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large; send the events in smaller batches",
            )
        } else {
            ApiError::bad_request(e.body_text())
        }
    })?;
    let records = parse_events(&headers, &body)?;
    let count = records.len();
    let org = auth.org();
    let mut tx = state.store.tenant(org).await?;
    let engine = state.detect_engines.for_org(org, &mut tx).await?;
    let running = std::sync::Arc::clone(&engine);
    let found = tokio::task::spawn_blocking(move || {
        let mut state = running
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = Vec::new();
        for record in records {
            // An event that cannot be normalised is skipped, not fatal: one odd record must not drop a batch.
            let Ok(event) = normalise(record) else { continue };
            match state.process(&org, &event) {
                Ok(found) => out.extend(found),
                Err(e) => tracing::warn!(error = %e, "an event could not be evaluated"),
            }
        }
        if q.flush {
            out.extend(state.flush(&org));
        }
        out
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "evaluating events panicked");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    })?;
    let mut stored = Vec::with_capacity(found.len());
    for d in found {
        let mut event = (*d.event).clone();
        if let serde_json::Value::Object(map) = &mut event {
            if !d.matched_fields.is_empty() {
                map.insert(
                    "_matched".into(),
                    serde_json::to_value(&d.matched_fields).unwrap_or_default(),
                );
            }
            if let Some(c) = &d.correlation {
                map.insert("_correlation".into(), serde_json::to_value(c).unwrap_or_default());
            }
        }
        let rule_id = d.rule_id.as_ref().and_then(|uid| engine.stored.get(uid)).copied();
        let detection = tx
            .create_detection(NewDetection {
                rule_id,
                level: d.level.map_or("medium", |l| l.as_str()).to_owned(),
                title: d.title.clone(),
                event,
            })
            .await?;
        stored.push((detection, d.rule_id.clone()));
    }
    let shown = views(&mut tx, stored.iter().map(|(d, _)| d.clone()).collect()).await?;
    tx.commit().await?;
    start_triage(&state, org, &stored).await;
    Ok(Json(IngestReport {
        events: count,
        detections: shown,
    }))
}

/// ATT&CK coverage of the enabled rules: per technique, the rules, their levels and the log sources they need.
#[utoipa::path(get, path = "/v1/coverage", tag = "detections", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = Problem)))]
pub async fn coverage(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    auth.0.require(Permission::RulesRead)?;
    let cov = org_coverage(&state, &auth).await?;
    Ok(Json(serde_json::to_value(&cov).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise coverage");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    })?))
}

/// The coverage as an ATT&CK Navigator layer (layer format 4.x), to load in the Navigator.
#[utoipa::path(get, path = "/v1/coverage/navigator", tag = "detections", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = Problem)))]
pub async fn navigator(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    auth.0.require(Permission::RulesRead)?;
    let cov = org_coverage(&state, &auth).await?;
    Ok(Json(cov.to_navigator_layer("secops coverage")))
}

async fn org_coverage(state: &AppState, auth: &Auth) -> ApiResult<Coverage> {
    let org = auth.org();
    let mut tx = state.store.tenant_read(org).await?;
    // The rules ingestion runs, compiled once per change of the enabled rules.
    let engine = state.detect_engines.for_org(org, &mut tx).await?;
    tx.commit().await?;
    Ok(Coverage::from_rules(
        engine.engine.rules().iter().map(AsRef::as_ref),
        Catalogue::embedded(),
    ))
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, upload_rule))
        .routes(routes!(get_rule, update_rule, delete_rule))
        .routes(routes!(ingest))
        .routes(routes!(coverage))
        .routes(routes!(navigator))
}
