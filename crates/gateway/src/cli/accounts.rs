//! `uplink accounts …`: import, sign in, list, remove, enable, disable and
//! refresh upstream accounts. Bad input and unknown accounts exit 64 with a
//! message, runtime failures 1; tokens are never printed.

pub(crate) mod import;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Subcommand;
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::auth::login::{self, LoginError, PendingLogin};
use crate::config::Config;
use crate::pool::Pool;
use crate::pool::quota::{QuotaSnapshot, format_rfc3339, human_duration, refresh_account};
use crate::state::Upstreams;
use crate::storage::{AccountRecord, AccountStatus, Storage};

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Import accounts from FILE, a directory, or `-` (standard input): a JSON
    /// array of {"refresh_token", "email"?, "project_id"?}, Antigravity Tools
    /// account files (one, or a directory of them), or one refresh token per line.
    /// The format is told from the content. Existing accounts are updated.
    Import {
        /// The file or directory to read, or `-`.
        file: PathBuf,
    },
    /// Sign in with Google in a browser and add (or update) that account.
    Login {
        /// Loopback port for the browser's redirect (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Do not listen for the redirect: print the URL and read the redirect
        /// URL (or the bare code) pasted on standard input.
        #[arg(long)]
        no_browser: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
        timeout_secs: u64,
    },
    /// List accounts with their status and last known quota (tokens are never shown).
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Delete an account.
    Remove {
        /// Account id or email.
        account: String,
    },
    /// Let an account serve requests again.
    Enable {
        /// Account id or email.
        account: String,
    },
    /// Stop an account from serving requests.
    Disable {
        /// Account id or email.
        account: String,
        /// Why (shown by `list`).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Refresh tokens and quota now, and store the result: one account, or every
    /// active one.
    Refresh {
        /// Account id or email (default: every active account).
        account: Option<String>,
    },
}

/// A command's failure: the message and the exit code.
struct Failure(String, u8);

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self(message.into(), EXIT_USAGE)
    }

    fn runtime(message: impl ToString) -> Self {
        Self(message.to_string(), EXIT_FAILURE)
    }
}

impl From<crate::storage::StorageError> for Failure {
    fn from(e: crate::storage::StorageError) -> Self {
        Failure::runtime(e)
    }
}

pub async fn run(command: AccountsCommand, config: &Config) -> ExitCode {
    // Read the input before touching the database.
    let entries = match &command {
        AccountsCommand::Import { file } => match import::read(file) {
            Ok(entries) => Some(entries),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        _ => None,
    };
    let storage = match Storage::open(&config.data_dir).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = match command {
        AccountsCommand::Import { file } => {
            import(&storage, config, &file, entries.unwrap_or_default()).await
        }
        AccountsCommand::Login {
            port,
            no_browser,
            timeout_secs,
        } => sign_in(&storage, config, port, no_browser, timeout_secs).await,
        AccountsCommand::List { json } => list(&storage, json).await,
        AccountsCommand::Remove { account } => remove(&storage, &account).await,
        AccountsCommand::Enable { account } => set_status(&storage, &account, None).await,
        AccountsCommand::Disable { account, reason } => {
            let reason = reason.unwrap_or_else(|| "disabled by the user".to_owned());
            set_status(&storage, &account, Some(reason)).await
        }
        AccountsCommand::Refresh { account } => refresh(&storage, config, account).await,
    };
    storage.close().await;
    match result {
        Ok(code) => code,
        Err(Failure(message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

async fn find(storage: &Storage, key: &str) -> Result<AccountRecord, Failure> {
    storage.find_account(key).await?.ok_or_else(|| {
        Failure::usage(format!(
            "no account `{key}` (give an id or an email from `uplink accounts list`)"
        ))
    })
}

fn label(record: &AccountRecord) -> String {
    match &record.email {
        Some(email) => format!("#{} {email}", record.id),
        None => format!("#{} (email unknown)", record.id),
    }
}

fn upstreams(config: &Config) -> Result<Upstreams, Failure> {
    Upstreams::new(config).map_err(|e| {
        let message = format!("cannot build the HTTP client: {e}");
        if e.is_configuration() {
            Failure::usage(message)
        } else {
            Failure::runtime(message)
        }
    })
}

async fn import(
    storage: &Storage,
    config: &Config,
    file: &std::path::Path,
    mut entries: Vec<import::Entry>,
) -> Result<ExitCode, Failure> {
    let before = storage.accounts().await?;
    // A token already stored with its email needs no lookup.
    for entry in entries.iter_mut().filter(|e| e.account.email.is_none()) {
        entry.account.email = before
            .iter()
            .find(|a| a.refresh_token.expose_secret() == entry.account.refresh_token.as_str())
            .and_then(|a| a.email.clone());
    }
    if config.oauth.client_id.is_some() {
        for warning in fill_emails(&upstreams(config)?, &mut entries).await {
            eprintln!("warning: {warning}");
        }
    } else if entries.iter().any(|e| e.account.email.is_none()) {
        eprintln!(
            "note: oauth.client_id is not configured, so accounts without an email are imported without one"
        );
    }
    let mut lines = Vec::new();
    let mut added = std::collections::HashSet::new();
    for entry in &entries {
        let id = storage.upsert_account(&entry.account).await?;
        let old = before.iter().find(|a| a.id == id);
        let new = old.is_none() && added.insert(id);
        let mut what = if new { "added" } else { "updated" }.to_owned();
        if let Some(reason) = &entry.disabled {
            storage
                .set_account_status(id, AccountStatus::Disabled, Some(reason), None)
                .await?;
            what.push_str(&format!(", disabled ({reason})"));
        } else if old.is_some_and(|o| {
            o.refresh_token.expose_secret() != entry.account.refresh_token.as_str()
        }) && storage.reactivate_if_revoked(id).await?
        {
            what.push_str(", active again with the new token");
        }
        let email = match &entry.account.email {
            Some(email) => email.clone(),
            None => storage
                .find_account(&id.to_string())
                .await?
                .and_then(|r| r.email)
                .unwrap_or_else(|| "(email unknown)".to_owned()),
        };
        lines.push(format!("  #{id:<4} {email:<36} {what}"));
    }
    println!(
        "imported {} account(s) from {} into {} ({} added, {} updated):",
        entries.len(),
        if file.as_os_str() == "-" {
            "standard input".to_owned()
        } else {
            file.display().to_string()
        },
        storage.path().display(),
        added.len(),
        entries.len() - added.len(),
    );
    for line in lines {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Give entries without an email the one Google knows (refresh, then userinfo),
/// a few at a time. A failure only warns (the returned lines): the account is
/// imported anyway.
pub(crate) async fn fill_emails(
    upstreams: &Upstreams,
    entries: &mut [import::Entry],
) -> Vec<String> {
    // Collected first: a stream over borrowed entries would keep the future
    // from being `Send` (the admin API runs this in a handler).
    let todo: Vec<(usize, SecretString)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.account.email.is_none())
        .map(|(i, e)| (i, SecretString::from(e.account.refresh_token.clone())))
        .collect();
    let lookups = futures_util::stream::iter(todo)
        .map(|(i, token)| async move {
            let found = async {
                let access = upstreams
                    .oauth
                    .refresh(&token)
                    .await
                    .map_err(|e| format!("token refresh failed: {}", e.message))?;
                let info = upstreams
                    .oauth
                    .userinfo(&access.token)
                    .await
                    .map_err(|e| format!("userinfo failed: {}", e.message))?;
                info.email
                    .filter(|e| !e.is_empty())
                    .ok_or_else(|| "userinfo has no email".to_owned())
            };
            let found = tokio::time::timeout(Duration::from_secs(30), found)
                .await
                .unwrap_or_else(|_| Err("Google did not answer within 30s".to_owned()));
            (i, found)
        })
        .buffered(4)
        .collect::<Vec<_>>()
        .await;
    let mut warnings = Vec::new();
    for (i, lookup) in lookups {
        match lookup {
            Ok(email) => entries[i].account.email = Some(email),
            Err(why) => warnings.push(format!(
                "{}: could not look up the account's email ({why}); importing it without one",
                entries[i].origin
            )),
        }
    }
    warnings
}

async fn sign_in(
    storage: &Storage,
    config: &Config,
    port: u16,
    no_browser: bool,
    timeout_secs: u64,
) -> Result<ExitCode, Failure> {
    if config.oauth.client_id.is_none() {
        return Err(Failure::usage(LoginError::NoClient.to_string()));
    }
    let timeout = Duration::from_secs(timeout_secs);
    let listener = if no_browser {
        None
    } else {
        Some(
            tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| Failure::runtime(format!("cannot listen on 127.0.0.1:{port}: {e}")))?,
        )
    };
    let port = match &listener {
        Some(l) => l.local_addr().map_err(Failure::runtime)?.port(),
        None if port != 0 => port,
        // Nothing listens: any free port makes a redirect the browser cannot load
        // but whose address holds the code.
        None => std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map_err(Failure::runtime)?
            .port(),
    };
    let pending = PendingLogin::start(&config.oauth, &login::redirect_uri(port))
        .map_err(|e| Failure::usage(e.to_string()))?;
    println!("Sign in with Google to add an account. Open this URL in a browser:\n");
    println!("  {}\n", pending.url());
    let code = match listener {
        Some(listener) => {
            println!(
                "Waiting for the browser to come back to {} (up to {timeout_secs}s)…",
                pending.redirect_uri()
            );
            open_browser(pending.url());
            login::receive_callback(listener, &pending, timeout).await
        }
        None => {
            println!(
                "After you sign in, the browser goes to {}?… (the page may not load; that is fine).\nPaste that whole address (or just the code) here and press Enter:",
                pending.redirect_uri()
            );
            match tokio::time::timeout(timeout, read_stdin_line()).await {
                Err(_) => Err(LoginError::Timeout(timeout)),
                Ok(Err(e)) => return Err(Failure::runtime(format!("cannot read standard input: {e}"))),
                Ok(Ok(line)) => pending.code_from_input(&line),
            }
        }
    }
    .map_err(Failure::runtime)?;
    let upstreams = upstreams(config)?;
    let signed_in = pending
        .complete(&upstreams.oauth, &code)
        .await
        .map_err(Failure::runtime)?;
    let stored = signed_in.store(storage).await?;
    println!(
        "Signed in as {}: {} account #{}{}.",
        signed_in.email,
        if stored.added { "added" } else { "updated" },
        stored.id,
        if stored.reactivated {
            ", active again"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// One line from standard input. A blocking read cannot be cancelled, so it runs
/// on its own plain thread (not the runtime's pool, whose shutdown would wait
/// for it): on timeout the process exits without waiting for the user.
async fn read_stdin_line() -> std::io::Result<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    rx.await
        .unwrap_or_else(|_| Err(std::io::Error::other("the reader stopped")))
}

/// Best effort, and only for a person at a terminal.
fn open_browser(url: &str) {
    if !std::io::stdout().is_terminal() {
        return;
    }
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // Some openers wait for the browser; nothing here needs them to finish.
    std::thread::spawn(move || {
        let _ = command.status();
    });
}

/// The stored snapshots, by account id.
async fn snapshots(
    storage: &Storage,
) -> Result<std::collections::HashMap<i64, QuotaSnapshot>, Failure> {
    Ok(storage
        .account_quotas()
        .await?
        .into_iter()
        .filter_map(|(id, json)| serde_json::from_str(&json).ok().map(|s| (id, s)))
        .collect())
}

async fn list(storage: &Storage, json: bool) -> Result<ExitCode, Failure> {
    let accounts = storage.accounts().await?;
    let snapshots = snapshots(storage).await?;
    let now = SystemTime::now();
    if json {
        let rows: Vec<Value> = accounts
            .iter()
            .map(|a| {
                let snapshot = snapshots.get(&a.id);
                let quota: serde_json::Map<String, Value> = snapshot
                    .into_iter()
                    .flatten()
                    .map(|(model, q)| {
                        let exhausted_until = q.exhausted_for(now).map(|_| q.reset_time.clone());
                        (
                            model.clone(),
                            json!({
                                "remaining_fraction": q.remaining_fraction,
                                "reset_time": q.reset_time,
                                "exhausted_until": exhausted_until.flatten(),
                            }),
                        )
                    })
                    .collect();
                json!({
                    "id": a.id,
                    "email": a.email,
                    "project_id": a.project_id,
                    "status": a.status.as_str(),
                    "status_reason": a.status_reason,
                    "validation_url": a.validation_url,
                    "quota_fetched_at": snapshot.and_then(fetched_at).map(format_rfc3339),
                    "quota": quota,
                })
            })
            .collect();
        println!("{}", Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if accounts.is_empty() {
        println!(
            "no accounts; add one with `uplink accounts login` or `uplink accounts import FILE`"
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<5} {:<36} {:<9} PROJECT", "ID", "EMAIL", "STATUS");
    for a in &accounts {
        println!(
            "{:<5} {:<36} {:<9} {}",
            a.id,
            a.email.as_deref().unwrap_or("(email unknown)"),
            a.status.as_str(),
            a.project_id.as_deref().unwrap_or("-"),
        );
        if let Some(reason) = &a.status_reason {
            println!("      reason: {reason}");
        }
        if let Some(url) = &a.validation_url {
            println!("      verify the account at: {url}");
        }
        match snapshots.get(&a.id) {
            None => println!("      quota: not fetched yet (`uplink accounts refresh`)"),
            Some(snapshot) => print_quota(snapshot, now),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fetched_at(snapshot: &QuotaSnapshot) -> Option<SystemTime> {
    snapshot
        .values()
        .filter_map(|q| q.fetched_at)
        .max()
        .and_then(|secs| u64::try_from(secs).ok())
        .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn print_quota(snapshot: &QuotaSnapshot, now: SystemTime) {
    let age = fetched_at(snapshot)
        .map(|at| {
            let ago = now.duration_since(at).unwrap_or_default();
            format!(
                " as of {} ({} ago)",
                format_rfc3339(at),
                human_duration(ago)
            )
        })
        .unwrap_or_default();
    println!("      quota{age}:");
    let width = snapshot.keys().map(String::len).max().unwrap_or(0);
    for (model, q) in snapshot {
        let remaining = q
            .remaining_fraction
            .map_or("   -".to_owned(), |r| format!("{:>3.0}%", r * 100.0));
        let reset = match q.reset_at() {
            Some(at) => match at.duration_since(now) {
                Ok(left) => format!(
                    "  resets {} (in {})",
                    format_rfc3339(at),
                    human_duration(left)
                ),
                Err(_) => format!("  reset {}", format_rfc3339(at)),
            },
            None => String::new(),
        };
        let cooling = if q.exhausted_for(now).is_some() {
            "  exhausted: resting until the reset"
        } else {
            ""
        };
        println!("        {model:<width$}  {remaining}{reset}{cooling}");
    }
}

async fn remove(storage: &Storage, key: &str) -> Result<ExitCode, Failure> {
    let record = find(storage, key).await?;
    storage.remove_account(record.id).await?;
    println!("removed account {}", label(&record));
    Ok(ExitCode::SUCCESS)
}

/// `None`: enable; `Some(reason)`: disable.
async fn set_status(
    storage: &Storage,
    key: &str,
    disable: Option<String>,
) -> Result<ExitCode, Failure> {
    let record = find(storage, key).await?;
    match &disable {
        None => {
            storage
                .set_account_status(record.id, AccountStatus::Active, None, None)
                .await?;
            println!("enabled account {}", label(&record));
        }
        Some(reason) => {
            storage
                .set_account_status(record.id, AccountStatus::Disabled, Some(reason), None)
                .await?;
            println!("disabled account {} ({reason})", label(&record));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn refresh(
    storage: &Storage,
    config: &Config,
    key: Option<String>,
) -> Result<ExitCode, Failure> {
    if config.oauth.client_id.is_none() {
        return Err(Failure::usage(LoginError::NoClient.to_string()));
    }
    let chosen = match &key {
        Some(key) => Some(find(storage, key).await?.id),
        None => None,
    };
    let pool = Pool::load(storage).await?;
    let upstreams = upstreams(config)?;
    let all = pool.all();
    let targets: Vec<Arc<crate::pool::Account>> = all
        .iter()
        .filter(|a| match chosen {
            Some(id) => a.id == id,
            None => a.is_usable(),
        })
        .cloned()
        .collect();
    let skipped = all.len() - targets.len();
    if targets.is_empty() {
        println!("no active accounts to refresh");
        return Ok(ExitCode::SUCCESS);
    }
    let results = futures_util::stream::iter(targets)
        .map(|account| {
            let (pool, upstreams) = (&pool, &upstreams);
            async move {
                let result = refresh_account(pool, &account, upstreams, storage).await;
                (account, result)
            }
        })
        .buffered(4)
        .collect::<Vec<_>>()
        .await;
    let now = SystemTime::now();
    let mut failed = 0;
    for (account, result) in &results {
        let record = storage.find_account(&account.id.to_string()).await?;
        let name = record.as_ref().map_or_else(|| account.label(), label);
        match result {
            Ok(snapshot) => println!("{name}: ok, {}", summary(snapshot, now)),
            Err(e) => {
                failed += 1;
                let status = record.map(|r| r.status).unwrap_or(AccountStatus::Active);
                let note = if status == AccountStatus::Active {
                    String::new()
                } else {
                    format!(" (account now {})", status.as_str())
                };
                println!("{name}: failed: {e}{note}");
            }
        }
    }
    if chosen.is_none() && skipped > 0 {
        println!("({skipped} disabled or blocked account(s) skipped)");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "error: {failed} of {} account(s) failed to refresh",
            results.len()
        );
        ExitCode::from(EXIT_FAILURE)
    })
}

fn summary(snapshot: &QuotaSnapshot, now: SystemTime) -> String {
    let exhausted: Vec<String> = snapshot
        .iter()
        .filter_map(|(model, q)| {
            q.exhausted_for(now)
                .map(|left| format!("{model} (resets in {})", human_duration(left)))
        })
        .collect();
    let lowest = snapshot
        .iter()
        .filter_map(|(model, q)| q.remaining_fraction.map(|r| (r, model)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let mut text = format!("{} models", snapshot.len());
    if let Some((r, model)) = lowest {
        text.push_str(&format!(", lowest {:.0}% ({model})", r * 100.0));
    }
    if !exhausted.is_empty() {
        text.push_str(&format!("; exhausted: {}", exhausted.join(", ")));
    }
    text
}
