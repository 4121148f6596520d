//! Prompts and schema of `plan_and_execute`.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::state::{PlannedStep, StepRecord, StepStatus};
use crate::tool::ToolDefinition;

/// The name of the tool offered during plan steps to report that a step cannot be done. Reserved: a registry
/// tool with this name is refused when the agent is built.
pub const REPORT_STEP_FAILURE_TOOL: &str = "report_step_failure";

/// The JSON Schema a plan must match.
#[must_use]
pub fn plan_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": 20,
                "items": {
                    "type": "object",
                    "properties": {
                        "title": { "type": "string", "minLength": 1, "maxLength": 200 },
                        "instruction": { "type": "string", "minLength": 1 }
                    },
                    "required": ["title", "instruction"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["steps"],
        "additionalProperties": false
    })
}

pub(super) fn step_failure_tool() -> ToolDefinition {
    ToolDefinition::new(
        REPORT_STEP_FAILURE_TOOL,
        "Report that the current plan step cannot be completed, with the reason. The run will re-plan.",
        json!({
            "type": "object",
            "properties": { "reason": { "type": "string", "minLength": 1 } },
            "required": ["reason"],
            "additionalProperties": false
        }),
    )
}

pub(super) fn planning_instructions(tools: &[ToolDefinition]) -> String {
    let mut s = String::from(
        "\n\n## Planning\nBefore acting, make a plan. Reply with only a JSON object {\"steps\": [{\"title\", \
         \"instruction\"}]}: between 1 and 20 steps, in order, each one concrete enough to carry out with the \
         tools below. Do not carry out any step yet.\nTools:\n",
    );
    for t in tools {
        let _ = writeln!(s, "- {}: {}", t.name, t.description);
    }
    s
}

pub(super) fn step_prompt(step: &PlannedStep, total: usize) -> String {
    format!(
        "Step {} of {}: {}\n{}\n\nUse the tools as needed. When the step is done, reply with its result. If it \
         cannot be done, call `{REPORT_STEP_FAILURE_TOOL}` with the reason.",
        step.number, total, step.title, step.instruction
    )
}

pub(super) fn replan_prompt(failed: &StepRecord, done: &[StepRecord]) -> String {
    let mut s = format!(
        "Step {} ({}) failed: {}\nMake a new plan for the rest of the original request. Do not repeat steps \
         that are done.",
        failed.number, failed.title, failed.result
    );
    let completed: Vec<_> = done
        .iter()
        .filter(|r| r.status == StepStatus::Completed)
        .collect();
    if !completed.is_empty() {
        s.push_str("\nDone so far:");
        for r in completed {
            let _ = write!(s, "\n[step {}] {}", r.number, r.title);
        }
    }
    s
}

pub(super) fn final_prompt(steps: &[StepRecord]) -> String {
    let mut s = String::from(
        "The plan is finished. Write the final answer to the original request from the step results. Cite the \
         steps you rely on as [step N].",
    );
    for r in steps {
        let status = match r.status {
            StepStatus::Completed => "done",
            StepStatus::Failed => "failed",
        };
        let _ = write!(s, "\n[step {}] {} ({status}): {}", r.number, r.title, r.result);
    }
    s
}

/// Reads a plan from the model's answer. Tolerates a fenced code block around the JSON, since some models
/// add one even when asked not to.
pub(super) fn parse_plan(
    text: &str,
    validator: &jsonschema::Validator,
) -> Result<Vec<(String, String)>, String> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .unwrap_or(trimmed);
    let value: Value =
        serde_json::from_str(body.trim()).map_err(|e| format!("the plan is not JSON ({e})"))?;
    let problems = crate::tool::schema_problems(validator, &value, 5);
    if !problems.is_empty() {
        return Err(format!(
            "the plan does not match the schema: {}",
            problems.join("; ")
        ));
    }
    let steps = value["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    (
                        s["title"].as_str().unwrap_or_default().to_owned(),
                        s["instruction"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_validate_and_report_problems() {
        let v = jsonschema::validator_for(&plan_schema()).unwrap();
        let ok = parse_plan(
            "```json\n{\"steps\":[{\"title\":\"a\",\"instruction\":\"b\"}]}\n```",
            &v,
        )
        .unwrap();
        assert_eq!(ok, vec![("a".to_owned(), "b".to_owned())]);
        assert!(parse_plan("not json", &v).unwrap_err().contains("not JSON"));
        let err = parse_plan("{\"steps\": []}", &v).unwrap_err();
        assert!(err.contains("/steps"), "{err}");
        let err = parse_plan("{\"steps\": [{\"title\": \"a\"}]}", &v).unwrap_err();
        assert!(err.contains("instruction"), "{err}");
    }
}
