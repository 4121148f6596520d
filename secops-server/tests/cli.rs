//! The `secops` command: admin subcommands on a fresh data directory, and errors people can act on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::process::{Command, Stdio};

fn secops(dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secops"))
        .args(args)
        .env_clear()
        .env("SECOPS_DATA_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn admin_creates_users_and_organisations_and_resets_passwords() {
    let dir = std::env::temp_dir().join(format!("secops-cli-{}", uuid::Uuid::now_v7().simple()));
    let (ok, out, err) = secops(
        &dir,
        &[
            "admin",
            "create-user",
            "--email",
            "ana@example.com",
            "--name",
            "Ana",
        ],
        "correct horse battery\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("created user ana@example.com"));
    let (ok, _, err) = secops(
        &dir,
        &["admin", "create-user", "--email", "ana@example.com"],
        "correct horse battery\n",
    );
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = secops(
        &dir,
        &["admin", "create-user", "--email", "bob@example.com"],
        "short\n",
    );
    assert!(!ok && err.contains("at least 12"), "{err}");
    let (ok, out, err) = secops(
        &dir,
        &[
            "admin",
            "create-org",
            "--name",
            "Blue Team",
            "--owner-email",
            "ana@example.com",
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("created organisation Blue Team"));
    let (ok, _, err) = secops(
        &dir,
        &[
            "admin",
            "create-org",
            "--name",
            "X",
            "--owner-email",
            "nobody@example.com",
        ],
        "",
    );
    assert!(!ok && err.contains("no user"), "{err}");
    let (ok, out, err) = secops(
        &dir,
        &["admin", "reset-password", "--email", "ana@example.com"],
        "another long password\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("password of ana@example.com changed"));
    let (ok, out, _) = secops(&dir, &["openapi"], "");
    assert!(ok && out.contains("\"openapi\""));
    std::fs::remove_dir_all(dir).unwrap();
}
