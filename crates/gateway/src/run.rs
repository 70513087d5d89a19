//! Start-up and shutdown of `uplink serve`: config is loaded and validated before
//! anything binds; then logging, storage, the key, the listener, and the signal
//! that ends it all gracefully.

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{ClientAuth, KeySource, resolve_api_key};
use crate::config::{AuthMode, Config, LogConfig};
use crate::monitor::{Monitor, MonitorConfig, Retention};
use crate::pool::Pool;
use crate::server;
use crate::state::{AppState, Upstreams};
use crate::storage::{Storage, StorageError};

/// Why `serve` stopped with an error; each maps to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Bind(#[from] server::BindError),
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
    #[error("cannot build the upstream HTTP client: {0}")]
    Http(#[from] crate::upstream::http::BuildError),
}

impl RunError {
    /// Whether the fault is in the configuration (exit 64), not at run time.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::Http(e) if e.is_configuration())
    }
}

/// A gateway that is bound and ready: the address is known before it serves,
/// so tests and the start-up line can use it (port 0 picks a free port).
pub struct Gateway {
    pub state: AppState,
    /// The request records' queue, drained by the writer once serving starts.
    pub monitor_rx: tokio::sync::mpsc::Receiver<crate::monitor::Record>,
    pub listener: tokio::net::TcpListener,
    pub local_addr: SocketAddr,
    pub key_source: KeySource,
}

impl Gateway {
    /// Open storage, resolve the key and bind, in that order.
    pub async fn bind(config: Config) -> Result<Gateway, RunError> {
        let storage = Storage::open(&config.data_dir).await?;
        let (key, key_source) = resolve_api_key(&config.api_key, &storage).await?;
        let pool = Pool::load(&storage).await?;
        let upstreams = Upstreams::new(&config)?;
        let listener = server::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let auth = ClientAuth::new(config.auth_mode, key);
        let (monitor, monitor_rx) = Monitor::new(MonitorConfig {
            capture_bodies: config
                .monitor
                .capture_bodies
                .then_some(config.monitor.capture_max_bytes),
            channel_capacity: config.monitor.channel_capacity,
        });
        let state = AppState::new(config, auth, storage, pool, upstreams, monitor);
        state.admin().listener().set_addr(local_addr);
        Ok(Gateway {
            monitor_rx,
            state,
            listener,
            local_addr,
            key_source,
        })
    }

    /// The one line that says where the gateway listens, how it authenticates and
    /// where its data lives.
    pub fn banner(&self) -> String {
        let config = self.state.config();
        let auth = match (config.auth_mode, config.auth_mode_auto) {
            (mode, true) => format!("{mode} (auto)"),
            (mode, false) => mode.to_string(),
        };
        let key = match (config.auth_mode, self.key_source) {
            (AuthMode::Off, _) => String::new(),
            (_, KeySource::Generated) => ", key: generated (uplink config show-key)".to_owned(),
            (_, KeySource::Configured) => ", key: configured".to_owned(),
            (_, KeySource::None) => ", key: none".to_owned(),
        };
        format!(
            "uplink {} listening on http://{} (auth: {auth}{key}; data: {})",
            env!("CARGO_PKG_VERSION"),
            self.local_addr,
            config.data_dir.display()
        )
    }

    /// Serve until `shutdown` is cancelled, then drain within the grace period.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), RunError> {
        let config = self.state.config();
        let accounts = self.state.pool().all();
        if accounts.is_empty() {
            tracing::warn!(
                "no upstream account yet: model requests answer 503 until you add one (`uplink accounts login` or `uplink accounts import FILE`)"
            );
        } else {
            let usable = accounts.iter().filter(|a| a.is_usable()).count();
            tracing::info!("{} upstream accounts ({usable} usable)", accounts.len());
        }
        if config.is_lan_exposed() && config.auth_mode == AuthMode::Off {
            tracing::warn!(
                "listening on {} with auth_mode = off: anyone on the network can use your upstream accounts; set auth_mode = \"all_except_health\" or \"strict\"",
                self.local_addr
            );
        }
        let grace = config.shutdown_grace;
        let storage = self.state.storage().clone();
        // Background work: tracked, stopped once serving has ended (after the
        // grace period, so work done while draining is kept), then awaited.
        let background = TaskTracker::new();
        let stop_background = CancellationToken::new();
        if let Some(interval) = config.quota.refresh_interval {
            crate::pool::quota::spawn_refresher(
                &background,
                stop_background.clone(),
                self.state.clone(),
                interval,
            );
        }
        crate::monitor::spawn_writer(
            &background,
            stop_background.clone(),
            storage.clone(),
            self.monitor_rx,
            Retention {
                max_age: config.monitor.retention,
                max_rows: config.monitor.retention_max_rows,
                every: std::time::Duration::from_secs(600),
            },
        );
        if let Some(busy_poll) = self.state.busy_poll().cloned() {
            let stop = stop_background.clone();
            background.spawn(async move { busy_poll.run(stop).await });
        }
        // Live feeds (the web UI's monitor) end when shutdown starts, so they
        // do not hold the grace period open.
        let feeds = self.state.admin().feeds_stop().clone();
        let (signal, stopped) = (shutdown.clone(), stop_background.clone());
        background.spawn(async move {
            tokio::select! {
                () = signal.cancelled() => feeds.cancel(),
                () = stopped.cancelled() => {}
            }
        });
        background.close();
        // The admin API can move the listener to another port or address.
        let listener = self.state.admin().listener().attach(self.listener);
        let app = server::router(self.state);
        let served = server::serve(listener, app, shutdown, grace).await;
        stop_background.cancel();
        background.wait().await;
        let drained = served?;
        if !drained {
            tracing::warn!(
                "shutdown grace period of {}s expired; closed the remaining connections",
                grace.as_secs()
            );
        }
        storage.close().await;
        Ok(())
    }
}

/// A token cancelled on SIGINT or SIGTERM. The handlers are installed before
/// this returns, so a signal that arrives right after the start-up line is
/// never lost to the default action.
pub fn shutdown_on_signals() -> std::io::Result<CancellationToken> {
    let token = CancellationToken::new();
    let cancel = token.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            tracing::info!("shutting down: no new connections; letting in-flight requests finish");
            cancel.cancel();
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("shutting down: no new connections; letting in-flight requests finish");
            cancel.cancel();
        }
    });
    Ok(token)
}

/// Install the global subscriber. Logs go to stderr through a bounded, lossy
/// channel so a slow terminal never stalls a request. Keep the guard alive.
pub fn init_logging(log: &LogConfig) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(&log.level));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    let result = if log.json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    if let Err(e) = result {
        eprintln!("warning: logging already initialised: {e}");
    }
    guard
}
