//! `uplink accounts …`: import and list upstream accounts. Every command exits
//! non-zero with a message on bad input; tokens are never printed.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde::Deserialize;

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::config::Config;
use crate::storage::{NewAccount, Storage};

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Import accounts from FILE (`-` for standard input): a JSON array of
    /// {"refresh_token", "email"?, "project_id"?}. Existing accounts are updated.
    Import {
        /// The file to read, or `-`.
        file: PathBuf,
    },
    /// List accounts (tokens are never shown).
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportEntry {
    refresh_token: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
}

/// Why an import file was refused; the message names the file and the entry.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: not a JSON array of {{\"refresh_token\", \"email\"?, \"project_id\"?}}: {1}")]
    Parse(String, serde_json::Error),
    #[error("{0}: entry {1} has an empty refresh_token")]
    Empty(String, usize),
    #[error("{0}: no accounts in the file")]
    Nothing(String),
}

/// Parse an import file's text into accounts.
pub fn parse_import(name: &str, text: &str) -> Result<Vec<NewAccount>, ImportError> {
    let entries: Vec<ImportEntry> =
        serde_json::from_str(text).map_err(|e| ImportError::Parse(name.to_owned(), e))?;
    if entries.is_empty() {
        return Err(ImportError::Nothing(name.to_owned()));
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let token = e.refresh_token.trim();
            if token.is_empty() {
                return Err(ImportError::Empty(name.to_owned(), i));
            }
            Ok(NewAccount {
                email: e.email.filter(|m| !m.trim().is_empty()),
                refresh_token: token.to_owned(),
                project_id: e.project_id.filter(|p| !p.trim().is_empty()),
            })
        })
        .collect()
}

fn read_source(file: &PathBuf) -> Result<(String, String), ImportError> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| ImportError::Read("standard input".into(), e))?;
        return Ok(("standard input".into(), text));
    }
    let name = file.display().to_string();
    std::fs::read_to_string(file)
        .map(|text| (name.clone(), text))
        .map_err(|e| ImportError::Read(name, e))
}

pub async fn run(command: AccountsCommand, config: &Config) -> ExitCode {
    // Parse input before touching the database.
    let import = match &command {
        AccountsCommand::Import { file } => {
            match read_source(file).and_then(|(name, text)| parse_import(&name, &text)) {
                Ok(accounts) => Some(accounts),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(EXIT_USAGE);
                }
            }
        }
        AccountsCommand::List { .. } => None,
    };
    let storage = match Storage::open(&config.data_dir).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let code = match (command, import) {
        (AccountsCommand::Import { .. }, Some(accounts)) => {
            let mut code = ExitCode::SUCCESS;
            for account in &accounts {
                if let Err(e) = storage.upsert_account(account).await {
                    eprintln!("error: {e}");
                    code = ExitCode::from(EXIT_FAILURE);
                    break;
                }
            }
            if code == ExitCode::SUCCESS {
                println!(
                    "imported {} account(s) into {}",
                    accounts.len(),
                    storage.path().display()
                );
            }
            code
        }
        (AccountsCommand::List { json }, _) => list(&storage, json).await,
        (AccountsCommand::Import { .. }, None) => ExitCode::from(EXIT_FAILURE),
    };
    storage.close().await;
    code
}

async fn list(storage: &Storage, json: bool) -> ExitCode {
    let accounts = match storage.accounts().await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if json {
        let rows: Vec<serde_json::Value> = accounts
            .iter()
            .map(|a| {
                serde_json::json!({
                    "id": a.id,
                    "email": a.email,
                    "project_id": a.project_id,
                    "status": a.status.as_str(),
                    "status_reason": a.status_reason,
                    "validation_url": a.validation_url,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return ExitCode::SUCCESS;
    }
    if accounts.is_empty() {
        println!("no accounts; add one with `uplink accounts import FILE`");
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<4} {:<32} {:<24} {:<9} REASON",
        "ID", "EMAIL", "PROJECT", "STATUS"
    );
    for a in &accounts {
        println!(
            "{:<4} {:<32} {:<24} {:<9} {}",
            a.id,
            a.email.as_deref().unwrap_or("-"),
            a.project_id.as_deref().unwrap_or("-"),
            a.status.as_str(),
            a.status_reason.as_deref().unwrap_or("")
        );
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_json_array_form() {
        let accounts = parse_import(
            "f",
            r#"[{"refresh_token": " rt1 ", "email": "a@x"}, {"refresh_token": "rt2", "project_id": "p", "email": ""}]"#,
        )
        .unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].refresh_token, "rt1");
        assert_eq!(accounts[1].email, None);
        assert_eq!(accounts[1].project_id.as_deref(), Some("p"));
    }

    #[test]
    fn refuses_bad_files_with_a_message_naming_them() {
        for (text, needle) in [
            ("nope", "f: not a JSON array"),
            ("[]", "no accounts"),
            (r#"[{"refresh_token": ""}]"#, "entry 0"),
            (r#"[{"refresh_token": "x", "token": 1}]"#, "unknown field"),
        ] {
            let msg = parse_import("f", text).unwrap_err().to_string();
            assert!(msg.contains(needle), "{needle}: {msg}");
            assert!(!msg.contains("x\""), "{msg}");
        }
    }
}
