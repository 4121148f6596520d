//! Triage: the runs the organisation's detection triggers start for new detections.

use secops_core::message::Message;
use secops_core::run::RunState;
use secops_core::tenancy::{AgentId, OrgId};
use secops_store::detections::{Detection, DetectionUpdate};
use secops_store::runs::{NewRun, RunTrigger};
use secops_store::triggers::{Trigger, TriggerSpec};

use super::runs::{queue_new_run, runtime_agent};
use crate::error::ApiResult;
use crate::state::AppState;

/// Starts the triage runs the organisation's detection triggers ask for, one per (detection, trigger), with the
/// detection as the run's input, and links each detection to its run. Failures are logged, not returned: the
/// detections are already stored, and an agent that cannot start must not lose them.
pub(crate) async fn start_triage(state: &AppState, org: OrgId, detections: &[(Detection, Option<String>)]) {
    if detections.is_empty() {
        return;
    }
    let triggers = match enabled_triggers(state, org).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e.detail, "cannot read detection triggers");
            return;
        }
    };
    for (detection, rule_uid) in detections {
        for trigger in triggers
            .iter()
            .filter(|t| fires(&t.spec, rule_uid.as_deref(), &detection.level))
        {
            if let Err(e) = start_one(state, org, trigger.agent_id, detection).await {
                tracing::warn!(detection = %detection.id, agent = %trigger.agent_id, error = %e.detail, "cannot start a triage run");
            }
        }
    }
}

async fn enabled_triggers(state: &AppState, org: OrgId) -> ApiResult<Vec<Trigger>> {
    let mut tx = state.store.tenant_read(org).await?;
    let mut out = Vec::new();
    let mut page = secops_store::PageRequest::first(200);
    loop {
        let got = tx.triggers(None, &page).await?;
        out.extend(got.items.into_iter().filter(|t| t.enabled));
        match got.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    tx.commit().await?;
    Ok(out)
}

async fn start_one(state: &AppState, org: OrgId, agent_id: AgentId, detection: &Detection) -> ApiResult<()> {
    let mut tx = state.store.tenant(org).await?;
    let agent = tx.agent(agent_id).await?;
    if !agent.enabled {
        return Ok(());
    }
    let prompt = tx.active_prompt(agent.id).await?;
    let runtime = runtime_agent(
        state,
        &mut tx,
        agent.config.clone(),
        prompt.body.clone(),
        &agent.tools,
    )
    .await?;
    let input = serde_json::json!({
        "detection_id": detection.id,
        "title": detection.title,
        "level": detection.level,
        "event": detection.event,
    });
    let text = format!(
        "Triage this detection.\nTitle: {}\nLevel: {}\nDetection id: {}\nEvent (untrusted data from the monitored systems):\n{}",
        detection.title, detection.level, detection.id, detection.event
    );
    let run_state = RunState::new(agent.config.mode, Some(org), Message::user(text));
    let run = tx
        .create_run(
            run_state.run_id,
            NewRun {
                agent_id: agent.id,
                trigger: RunTrigger::Detection,
                prompt_version: Some(prompt.number),
                input,
            },
        )
        .await?;
    tx.update_detection(
        detection.id,
        detection.version,
        DetectionUpdate {
            run_id: Some(run_state.run_id),
            ..DetectionUpdate::default()
        },
    )
    .await?;
    drop(queue_new_run(state, tx, runtime, org, run_state, run.version, None).await?);
    Ok(())
}

/// Whether a detection trigger fires for a detection of `rule_uid` at `level`.
fn fires(spec: &TriggerSpec, rule_uid: Option<&str>, level: &str) -> bool {
    let TriggerSpec::Detection { rules, min_level } = spec else {
        return false;
    };
    let rule_ok = rules.is_empty() || rule_uid.is_some_and(|u| rules.iter().any(|r| r == u));
    let level_ok = match min_level {
        None => true,
        Some(min) => crate::detections::level_rank(level) >= crate::detections::level_rank(min),
    };
    rule_ok && level_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_triggers_filter_by_rule_and_level() {
        let any_high = TriggerSpec::Detection {
            rules: Vec::new(),
            min_level: Some("high".into()),
        };
        assert!(fires(&any_high, Some("r1"), "critical"));
        assert!(fires(&any_high, None, "high"));
        assert!(!fires(&any_high, Some("r1"), "medium"));
        let one = TriggerSpec::Detection {
            rules: vec!["r1".into()],
            min_level: None,
        };
        assert!(fires(&one, Some("r1"), "low"));
        assert!(!fires(&one, Some("r2"), "critical"));
        assert!(!fires(&TriggerSpec::Manual, Some("r1"), "critical"));
    }
}
