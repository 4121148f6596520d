//! Triage a phishing alert with a two-tool agent on the scripted provider: no network, no API key.
//!
//! ```text
//! cargo run -p secops-examples --bin triage-offline
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use secops_core::run::{RunEvent, RunEventKind};
use tokio_util::sync::CancellationToken;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = secops_examples::triage_agent(Arc::new(secops_examples::offline_provider()))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
    let mut run = agent.start("Alert 4711: j.doe clicked a link in a reported phishing mail. Triage it.");
    let status = agent.drive(&mut run, &tx, &CancellationToken::new()).await;
    drop(tx);
    while let Some(event) = rx.recv().await {
        match event.kind {
            RunEventKind::ToolCallRequested { call } => {
                println!("#{:<3} tool call  {} {}", event.seq, call.name, call.input)
            }
            RunEventKind::ToolResult { execution } => {
                println!(
                    "#{:<3} tool result {} ({:?}, {} bytes)",
                    event.seq,
                    execution.tool,
                    execution.outcome,
                    execution.content.len()
                );
            }
            RunEventKind::Usage { total, .. } => {
                println!("#{:<3} tokens so far {}", event.seq, total.total_tokens())
            }
            _ => {}
        }
    }
    let output = run.output.ok_or("the run ended without output")?;
    println!("status: {status:?}, stop reason: {:?}", output.stop_reason);
    println!("answer: {}", output.text);
    Ok(())
}
