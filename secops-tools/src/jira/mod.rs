//! Jira Cloud (REST API v3): create an issue (description as Atlassian Document Format), comment, search with
//! JQL, move an issue through a transition. Basic auth with an account e-mail and API token.
//!
//! Wire formats, from Atlassian's documentation: `POST /rest/api/3/issue` answers 201 `{"id", "key", "self"}`;
//! `POST /rest/api/3/issue/{key}/comment` answers 201 with the comment; `GET /rest/api/3/search/jql` answers
//! `{"issues": [...], "nextPageToken"?}`; `GET /rest/api/3/issue/{key}/transitions` lists `{"transitions":
//! [{"id", "name", "to"}]}` and `POST` to the same path with `{"transition": {"id"}}` answers 204. Errors are
//! `{"errorMessages": [...], "errors": {field: message}}`; rate limits are 429 with `Retry-After`.

use base64::Engine;
use schemars::JsonSchema;
use secops_core::tool::{RiskLevel, ToolContext, ToolError, TypedTool};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::egress::{EgressClient, EgressResponse, Method};

/// A Jira Cloud site and the account the tools act as.
#[derive(Clone)]
pub struct JiraSite {
    client: EgressClient,
    base: String,
    authorization: String,
}

impl std::fmt::Debug for JiraSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraSite")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Plain text as an Atlassian Document Format document: blank lines separate paragraphs, single newlines
/// become hard breaks.
#[must_use]
pub fn adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let mut content = Vec::new();
            for (i, line) in p.lines().enumerate() {
                if i > 0 {
                    content.push(json!({"type": "hardBreak"}));
                }
                if !line.is_empty() {
                    content.push(json!({"type": "text", "text": line}));
                }
            }
            json!({"type": "paragraph", "content": content})
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

fn valid_key(key: &str, issue: bool) -> Result<&str, ToolError> {
    let (project, number) = match key.split_once('-') {
        Some((p, n)) if issue => (p, Some(n)),
        _ if issue => {
            return Err(ToolError::InvalidInput(format!(
                "`{key}` is not an issue key like SEC-42"
            )));
        }
        _ => (key, None),
    };
    let project_ok = project.len() >= 2
        && project.starts_with(|c: char| c.is_ascii_uppercase())
        && project
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let number_ok = number.is_none_or(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if project_ok && number_ok {
        Ok(key)
    } else if issue {
        Err(ToolError::InvalidInput(format!(
            "`{key}` is not an issue key like SEC-42"
        )))
    } else {
        Err(ToolError::InvalidInput(format!(
            "`{key}` is not a project key like SEC"
        )))
    }
}

impl JiraSite {
    /// The site at `base` (`https://your-domain.atlassian.net`), acting as `email` with `api_token`.
    #[must_use]
    pub fn new(client: EgressClient, base: impl Into<String>, email: &str, api_token: &str) -> Self {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{email}:{api_token}"));
        Self {
            client,
            base: base.into().trim_end_matches('/').to_owned(),
            authorization: format!("Basic {basic}"),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<EgressResponse, ToolError> {
        let mut req = self
            .client
            .request(method, &format!("{}{path}", self.base))
            .map_err(|e| ToolError::Unavailable(format!("Jira is unreachable: {e}")))?
            .header("authorization", &self.authorization)
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = self
            .client
            .send(req)
            .await
            .map_err(|e| ToolError::Unavailable(format!("Jira is unreachable: {e}")))?;
        if res.status.is_success() {
            return Ok(res);
        }
        let answer: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        let mut messages: Vec<String> = answer["errorMessages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect();
        if let Some(fields) = answer["errors"].as_object() {
            messages.extend(
                fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())),
            );
        }
        let detail = messages.join("; ");
        Err(match res.status.as_u16() {
            429 => {
                let after = res.retry_after().unwrap_or("a few");
                ToolError::Unavailable(format!("Jira is rate limiting; retry after {after} s"))
            }
            401 | 403 => ToolError::Unavailable(format!(
                "Jira refused the configured account ({}): {detail}",
                res.status
            )),
            404 => ToolError::InvalidInput(format!("Jira has no such issue or project: {detail}")),
            s if s >= 500 => ToolError::Unavailable(format!("Jira answered {}", res.status)),
            _ => ToolError::Failed(format!("Jira refused the request ({}): {detail}", res.status)),
        })
    }

    fn json(res: &EgressResponse) -> Result<Value, ToolError> {
        serde_json::from_slice(&res.body)
            .map_err(|_| ToolError::Unavailable("Jira's answer is not JSON".into()))
    }
}

/// A new issue.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIssue {
    /// Project key, e.g. `SEC`.
    pub project: String,
    /// One-line summary.
    pub summary: String,
    /// Description (plain text; blank lines separate paragraphs).
    #[serde(default)]
    pub description: String,
    /// Issue type name (default `Task`).
    #[serde(default)]
    pub issue_type: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// A created issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedIssue {
    /// Its key, e.g. `SEC-42`.
    pub key: String,
    /// Its id.
    pub id: String,
}

/// `jira_create_issue`.
#[derive(Debug, Clone)]
pub struct JiraCreateIssue(pub JiraSite);

impl TypedTool for JiraCreateIssue {
    type Input = NewIssue;
    type Output = CreatedIssue;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "jira_create_issue"
    }
    fn description(&self) -> &str {
        "Open a Jira issue (a ticket for the investigation) with a summary, description and labels."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::Medium
    }
    async fn run(&self, _ctx: &ToolContext, input: NewIssue) -> Result<CreatedIssue, ToolError> {
        let project = valid_key(input.project.trim(), false)?;
        let mut fields = json!({
            "project": {"key": project},
            "summary": input.summary,
            "issuetype": {"name": input.issue_type.as_deref().unwrap_or("Task")},
            "labels": input.labels,
        });
        if !input.description.trim().is_empty() {
            fields["description"] = adf(&input.description);
        }
        let res = self
            .0
            .call(Method::POST, "/rest/api/3/issue", Some(json!({"fields": fields})))
            .await?;
        let v = JiraSite::json(&res)?;
        Ok(CreatedIssue {
            key: v["key"].as_str().unwrap_or_default().to_owned(),
            id: v["id"].as_str().unwrap_or_default().to_owned(),
        })
    }
}

/// A comment on an issue.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Issue key, e.g. `SEC-42`.
    pub issue: String,
    /// The comment (plain text).
    pub text: String,
}

/// `jira_add_comment`.
#[derive(Debug, Clone)]
pub struct JiraAddComment(pub JiraSite);

impl TypedTool for JiraAddComment {
    type Input = NewComment;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "jira_add_comment"
    }
    fn description(&self) -> &str {
        "Add a comment to a Jira issue."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::Medium
    }
    async fn run(&self, _ctx: &ToolContext, input: NewComment) -> Result<Value, ToolError> {
        let key = valid_key(input.issue.trim(), true)?;
        let res = self
            .0
            .call(
                Method::POST,
                &format!("/rest/api/3/issue/{key}/comment"),
                Some(json!({"body": adf(&input.text)})),
            )
            .await?;
        let v = JiraSite::json(&res)?;
        Ok(json!({"issue": key, "comment_id": v["id"]}))
    }
}

/// A JQL search.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JqlSearch {
    /// The JQL, e.g. `project = SEC AND status != Done ORDER BY created DESC`.
    pub jql: String,
    /// At most this many issues (1 to 100, default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub max_results: Option<u32>,
}

/// `jira_search`.
#[derive(Debug, Clone)]
pub struct JiraSearch(pub JiraSite);

impl TypedTool for JiraSearch {
    type Input = JqlSearch;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "jira_search"
    }
    fn description(&self) -> &str {
        "Search Jira issues with JQL; returns key, summary, status, assignee and priority of each."
    }
    async fn run(&self, _ctx: &ToolContext, input: JqlSearch) -> Result<Value, ToolError> {
        let max = input.max_results.unwrap_or(20).clamp(1, 100).to_string();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("jql", &input.jql)
            .append_pair("maxResults", &max)
            .append_pair("fields", "summary,status,assignee,priority")
            .finish();
        let res = self
            .0
            .call(Method::GET, &format!("/rest/api/3/search/jql?{query}"), None)
            .await?;
        let v = JiraSite::json(&res)?;
        let issues: Vec<Value> = v["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                let f = &i["fields"];
                json!({
                    "key": i["key"],
                    "summary": f["summary"],
                    "status": f["status"]["name"],
                    "assignee": f["assignee"]["displayName"],
                    "priority": f["priority"]["name"],
                })
            })
            .collect();
        Ok(json!({"issues": issues, "more": v["nextPageToken"].is_string()}))
    }
}

/// A transition by name.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// Issue key, e.g. `SEC-42`.
    pub issue: String,
    /// The transition's name, e.g. `Done` or `In Progress` (case does not matter).
    pub transition: String,
}

/// `jira_transition_issue`.
#[derive(Debug, Clone)]
pub struct JiraTransition(pub JiraSite);

impl TypedTool for JiraTransition {
    type Input = Transition;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "jira_transition_issue"
    }
    fn description(&self) -> &str {
        "Move a Jira issue through a workflow transition by its name (e.g. In Progress, Done)."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::Medium
    }
    async fn run(&self, _ctx: &ToolContext, input: Transition) -> Result<Value, ToolError> {
        let key = valid_key(input.issue.trim(), true)?;
        let path = format!("/rest/api/3/issue/{key}/transitions");
        let list = JiraSite::json(&self.0.call(Method::GET, &path, None).await?)?;
        let available: Vec<&Value> = list["transitions"].as_array().into_iter().flatten().collect();
        let wanted = input.transition.trim();
        let Some(t) = available
            .iter()
            .find(|t| t["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(wanted)))
        else {
            let names: Vec<&str> = available.iter().filter_map(|t| t["name"].as_str()).collect();
            return Err(ToolError::InvalidInput(format!(
                "{key} has no transition `{wanted}`; available: {}",
                names.join(", ")
            )));
        };
        self.0
            .call(Method::POST, &path, Some(json!({"transition": {"id": t["id"]}})))
            .await?;
        Ok(json!({"issue": key, "transition": t["name"], "status": t["to"]["name"]}))
    }
}
