//! Generates the ATT&CK catalogue embedded in secops-detect (`src/attack/enterprise-attack.json`) from the
//! shared data set's `attack/attack_db.json`:
//!
//! ```text
//! cargo run -p secops-detect --example gen_attack_catalogue -- ../shared/data/attack/attack_db.json 19 \
//!     > secops-detect/src/attack/enterprise-attack.json
//! ```
//!
//! The second argument is the ATT&CK release the data corresponds to (2026-04-14: version 19), which
//! Navigator layers carry. The output keeps MITRE's copyright notice inside the file.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use secops_detect::attack::Catalogue;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(path), version) = (args.next(), args.next()) else {
        eprintln!("usage: gen_attack_catalogue ATTACK_DB_JSON [ATTACK_MAJOR_VERSION]");
        return ExitCode::FAILURE;
    };
    let result = std::fs::read_to_string(&path)
        .map_err(|e| format!("{path}: {e}"))
        .and_then(|json| Catalogue::from_attack_db(&json, version.as_deref()).map_err(|e| e.to_string()))
        .and_then(|c| c.to_compact_json().map_err(|e| e.to_string()));
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_attack_catalogue: {e}");
            ExitCode::FAILURE
        }
    }
}
