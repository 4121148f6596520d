//! The offline example runs and triages the alert.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[test]
fn triage_offline_runs_to_a_verdict() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triage-offline"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("tool call  search_alert_events {\"alert_id\":\"4711\"}"),
        "{stdout}"
    );
    assert!(stdout.contains("tool result ip_reputation (Success"), "{stdout}");
    assert!(
        stdout.contains("status: Finished, stop reason: Completed"),
        "{stdout}"
    );
    assert!(stdout.contains("answer: True positive."), "{stdout}");
}

#[test]
fn triage_live_explains_how_to_configure_a_provider() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triage-live"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("ANTHROPIC_API_KEY") && stderr.contains("SECOPS_LLM_BASE_URL"),
        "{stderr}"
    );
}
