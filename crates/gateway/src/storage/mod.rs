//! Embedded SQLite storage: opening the database with owner-only permissions,
//! versioned migrations, and the settings the gateway persists for itself.

mod accounts;
mod request_log;

pub use accounts::{AccountRecord, AccountStatus, NewAccount};
pub use request_log::{LogFilter, LogRow, UsageBucket, UsageRow};

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::SqlitePool;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "uplink.db";

/// Migrations, in order. Never edit one that has shipped; add a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "settings",
        include_str!("../../migrations/0001_settings.sql"),
    ),
    (
        2,
        "accounts",
        include_str!("../../migrations/0002_accounts.sql"),
    ),
    (
        10,
        "request_log",
        include_str!("../../migrations/0010_request_log.sql"),
    ),
    (
        11,
        "request_headers",
        include_str!("../../migrations/0011_request_headers.sql"),
    ),
    (
        12,
        "request_log_indexes",
        include_str!("../../migrations/0012_request_log_indexes.sql"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// Handle to the gateway's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Storage {
    pool: SqlitePool,
    /// One connection of its own for the request log's batch writer: its page
    /// cache and worker thread stay warm from batch to batch (the shared pool
    /// hands out its connections in turn, so each batch used to start cold),
    /// and it is not pinged before each batch.
    log: SqlitePool,
    path: PathBuf,
}

impl Storage {
    /// Open (creating if needed) the database in `data_dir` and migrate it.
    pub async fn open(data_dir: &Path) -> Result<Storage, StorageError> {
        create_private_dir(data_dir).map_err(|source| StorageError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        create_private_file(&path).map_err(|source| StorageError::DataDir {
            path: path.clone(),
            source,
        })?;
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| StorageError::Open {
                path: path.clone(),
                source,
            })?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(|source| StorageError::Open {
                path: path.clone(),
                source,
            })?;
        migrator().run(&pool).await?;
        // Opened on the batch writer's first use: commands that never serve
        // never open it.
        let log = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(Storage { pool, log, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        let value = sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(unix_now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Set `key` to `value` unless it already has a value; return the stored one.
    /// Safe against two processes racing to initialise the same setting.
    pub async fn setting_or_init(&self, key: &str, value: &str) -> Result<String, StorageError> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .bind(unix_now())
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn close(&self) {
        self.log.close().await;
        self.pool.close().await;
    }
}

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(sql),
                    false,
                )
            })
            .collect(),
    )
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Create the database file readable by its owner only (tokens live in it).
#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        }
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .open(path)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn creates_migrates_and_persists_settings() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let storage = Storage::open(&data).await.unwrap();
        assert_eq!(storage.setting("k").await.unwrap(), None);
        storage.set_setting("k", "v1").await.unwrap();
        storage.set_setting("k", "v2").await.unwrap();
        assert_eq!(storage.setting_or_init("k", "ignored").await.unwrap(), "v2");
        assert_eq!(
            storage.setting_or_init("new", "first").await.unwrap(),
            "first"
        );
        storage.close().await;

        // Reopening runs migrations again without error and keeps the data.
        let again = Storage::open(&data).await.unwrap();
        assert_eq!(again.setting("k").await.unwrap().as_deref(), Some("v2"));
        again.close().await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn database_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        let mode = std::fs::metadata(storage.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        storage.close().await;
    }
}
