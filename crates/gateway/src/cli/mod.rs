//! The command line: `uplink serve` (the default), `uplink config …` and
//! `uplink accounts …`.
//! Bad usage or configuration exits with 64 (EX_USAGE) and a message.

pub(crate) mod accounts;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::auth::resolve_api_key;
use crate::config::{Config, RawConfig, Sources};
use crate::run::{Gateway, init_logging, shutdown_on_signals};
use crate::storage::Storage;

/// Exit code for bad usage or configuration.
pub const EXIT_USAGE: u8 = 64;
/// Exit code for a runtime failure (cannot bind, storage broken).
pub const EXIT_FAILURE: u8 = 1;

#[derive(Debug, Parser)]
#[command(name = "uplink", version, about = "A local-first LLM API gateway")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Config file (default: <data dir>/config.toml; env UPLINK_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (default: the platform data dir + /uplink; env UPLINK_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default command).
    Serve(ServeArgs),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage upstream accounts.
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Port to listen on (default 8045; env UPLINK_PORT). 0 picks a free port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Explicit bind address, overriding allow_lan_access (env UPLINK_BIND).
    #[arg(long, value_name = "IP")]
    pub bind: Option<String>,
    /// Listen on all interfaces instead of 127.0.0.1 (env UPLINK_ALLOW_LAN_ACCESS).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub allow_lan_access: Option<bool>,
    /// off | strict | all_except_health | auto (env UPLINK_AUTH_MODE).
    #[arg(long, value_name = "MODE")]
    pub auth_mode: Option<String>,
    /// Log level or filter directive (env UPLINK_LOG_LEVEL).
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Log as JSON lines (env UPLINK_LOG_JSON).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub log_json: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the client API key (generating and persisting it if none exists yet).
    ShowKey,
    /// Print the effective configuration, secrets redacted.
    Show,
}

impl ServeArgs {
    fn as_layer(&self) -> RawConfig {
        let mut layer = RawConfig {
            port: self.port,
            bind: self.bind.clone(),
            allow_lan_access: self.allow_lan_access,
            auth_mode: self.auth_mode.clone(),
            ..RawConfig::default()
        };
        layer.log.level.clone_from(&self.log_level);
        layer.log.json = self.log_json;
        layer
    }
}

/// Parse the process arguments and environment and run. Never panics on bad input.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let env: HashMap<String, String> = std::env::vars().collect();
    let serve_args = match &cli.command {
        Some(Command::Serve(args)) => args.clone(),
        _ => ServeArgs::default(),
    };
    let sources = Sources {
        data_dir: cli.global.data_dir.clone(),
        config_file: cli.global.config.clone(),
        env,
        flags: serve_args.as_layer(),
    };
    let config = match Config::load(&sources) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let serving = matches!(cli.command, None | Some(Command::Serve(_)));
    let runtime = match runtime(serving.then_some(config.runtime.worker_threads)) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    runtime.block_on(run(cli.command, config))
}

/// One thread (the default, and every command but `serve`): the sockets, the
/// handlers and the upstream connections share it, so no request is handed
/// between threads. More: a work-stealing pool of that many.
fn runtime(serve_threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    match serve_threads {
        Some(threads) if threads > 1 => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
}

async fn run(command: Option<Command>, config: Config) -> ExitCode {
    match command {
        None | Some(Command::Serve(_)) => serve(config).await,
        Some(Command::Config(ConfigCommand::ShowKey)) => show_key(&config).await,
        Some(Command::Config(ConfigCommand::Show)) => {
            println!("{}", describe(&config));
            ExitCode::SUCCESS
        }
        Some(Command::Accounts(command)) => accounts::run(command, &config).await,
    }
}

async fn serve(config: Config) -> ExitCode {
    let _log_guard = init_logging(&config.log);
    let gateway = match Gateway::bind(config).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            let code = if e.is_configuration() {
                EXIT_USAGE
            } else {
                EXIT_FAILURE
            };
            return ExitCode::from(code);
        }
    };
    let shutdown = match shutdown_on_signals() {
        Ok(token) => token,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    tracing::info!("{}", gateway.banner());
    match gateway.serve(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn show_key(config: &Config) -> ExitCode {
    let storage = match Storage::open(&config.data_dir).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = resolve_api_key(&config.api_key, &storage).await;
    storage.close().await;
    match result {
        Ok((Some(key), _)) => {
            println!("{}", key.expose_secret());
            ExitCode::SUCCESS
        }
        Ok((None, _)) => {
            eprintln!(
                "error: api_key is set to an empty value: this gateway has no key (auth_mode = off)"
            );
            ExitCode::from(EXIT_FAILURE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The effective configuration as TOML-like lines, secrets redacted.
fn describe(config: &Config) -> String {
    use crate::config::ApiKeySetting;
    let key = match &config.api_key {
        ApiKeySetting::Generate => "(generated, see `uplink config show-key`)".to_owned(),
        ApiKeySetting::Disabled => "(none)".to_owned(),
        ApiKeySetting::Configured(k) => crate::config::redact(k),
    };
    [
        format!("data_dir = {:?}", config.data_dir.display().to_string()),
        format!(
            "config_file = {:?}",
            config
                .config_file
                .as_ref()
                .map_or("(none)".to_owned(), |p| p.display().to_string())
        ),
        format!("listen = \"{}\"", config.listen),
        format!("allow_lan_access = {}", config.allow_lan_access),
        format!(
            "auth_mode = \"{}\"{}",
            config.auth_mode,
            if config.auth_mode_auto { " # auto" } else { "" }
        ),
        format!("api_key = \"{key}\""),
        format!(
            "request_timeout_secs = {}",
            config.request_timeout.as_secs()
        ),
        format!("max_body_bytes = {}", config.max_body_bytes),
        format!("shutdown_grace_secs = {}", config.shutdown_grace.as_secs()),
        format!("log.level = {:?}", config.log.level),
        format!("log.json = {}", config.log.json),
        format!("runtime.worker_threads = {}", config.runtime.worker_threads),
        format!(
            "runtime.busy_poll_us = {}{}",
            config.runtime.busy_poll.map_or(0, |d| d.as_micros()),
            if config.runtime.busy_poll().is_none() && config.runtime.busy_poll.is_some() {
                " # off: needs worker_threads = 1"
            } else {
                ""
            }
        ),
    ]
    .join("\n")
}
