//! The same triage agent as `triage-offline`, on a real model chosen by the environment:
//! `ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, or `SECOPS_LLM_BASE_URL` + `SECOPS_LLM_MODEL` (e.g. a local Ollama
//! at `http://127.0.0.1:11434/v1`). See `secops_llm::config`.
//!
//! ```text
//! ANTHROPIC_API_KEY=sk-ant-... cargo run -p secops-examples --bin triage-live
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use secops_core::run::{RunEvent, RunEventKind};
use tokio_util::sync::CancellationToken;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let provider = match secops_llm::config::provider_from_env() {
        Ok(provider) => provider,
        Err(e) => {
            eprintln!("triage-live: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let agent = match secops_examples::triage_agent(provider) {
        Ok(agent) => agent,
        Err(e) => {
            eprintln!("triage-live: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
    let mut run = agent.start("Alert 4711: j.doe clicked a link in a reported phishing mail. Triage it.");
    let cancel = CancellationToken::new();
    let drive = async {
        let status = agent.drive(&mut run, &tx, &cancel).await;
        // Closing the channel ends the printer even if the run paused without a final event.
        drop(tx);
        status
    };
    let print = async {
        while let Some(event) = rx.recv().await {
            match event.kind {
                RunEventKind::TextDelta { text } => print!("{text}"),
                RunEventKind::ToolCallRequested { call } => {
                    println!("\n[tool call] {} {}", call.name, call.input)
                }
                RunEventKind::ToolResult { execution } => {
                    println!("[tool result] {} {:?}", execution.tool, execution.outcome)
                }
                RunEventKind::Finished { .. }
                | RunEventKind::Failed { .. }
                | RunEventKind::Cancelled { .. } => break,
                _ => {}
            }
        }
    };
    let (status, ()) = tokio::join!(drive, print);
    println!();
    match run.output {
        Some(output) => {
            println!(
                "status: {status:?}, stop reason: {:?}, tokens: {}, cost: ${:.4}",
                output.stop_reason,
                run.counters.usage.total_tokens(),
                run.counters.cost_usd
            );
            if let Some(error) = run.error {
                eprintln!("error: {error}");
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::SUCCESS
        }
        None => std::process::ExitCode::FAILURE,
    }
}
