//! Opening the database (SQLite file or MySQL/MariaDB URL), running migrations and the
//! [`with_pool!`] macro that compiles one query for both backends.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use tars_common::env as tars_env;

use crate::server_cache::ServerListCache;
use crate::{StoreError, StoreResult};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MYSQL_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/mysql");

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// MySQL or MariaDB, the TARS `db_tars` database.
    MySql,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `mysql://…` or `sqlite://…`; `None` means SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Directory of the embedded SQLite file (`tars.db`), created when missing.
    pub data_dir: PathBuf,
    /// Pool size; `None` picks per backend (SQLite serializes writers, so a few
    /// connections are enough; MySQL gets more).
    pub max_connections: Option<u32>,
    /// How long a query waits for a free connection before the store reports unavailable.
    pub acquire_timeout: Duration,
    /// How long a cached server list may be served; `None` picks per backend (on for
    /// SQLite, where the platform is the only writer; off for MySQL, where tarsregistry
    /// and tarsnode update `t_server_conf` too). Zero turns the cache off.
    pub server_cache_ttl: Option<Duration>,
}

impl StoreConfig {
    /// Reads `TARS_DATABASE_URL`, `TARS_DATA_DIR` (default `./data`),
    /// `TARS_DB_MAX_CONNECTIONS` (default 4 for SQLite, 16 for MySQL) and
    /// `TARS_DB_ACQUIRE_TIMEOUT_MS` (default 5000).
    pub fn from_env() -> Result<StoreConfig, tars_env::EnvError> {
        Ok(StoreConfig {
            database_url: tars_env::var("TARS_DATABASE_URL"),
            data_dir: PathBuf::from(tars_env::var_or("TARS_DATA_DIR", "./data")),
            max_connections: match tars_env::var("TARS_DB_MAX_CONNECTIONS") {
                None => None,
                Some(_) => Some(tars_env::var_parsed("TARS_DB_MAX_CONNECTIONS", 16)?),
            },
            acquire_timeout: Duration::from_millis(tars_env::var_parsed(
                "TARS_DB_ACQUIRE_TIMEOUT_MS",
                5000,
            )?),
            server_cache_ttl: match tars_env::var("TARS_SERVER_CACHE_MS") {
                None => None,
                Some(_) => Some(Duration::from_millis(tars_env::var_parsed(
                    "TARS_SERVER_CACHE_MS",
                    0,
                )?)),
            },
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) enum DbPool {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: DbPool,
    pub(crate) server_cache: Option<Arc<ServerListCache>>,
}

/// Default lifetime of a cached server list on SQLite.
const SQLITE_SERVER_CACHE_TTL: Duration = Duration::from_secs(2);

/// Runs `$body` with `$pool` bound to the concrete pool, compiling it once per backend.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::pool::DbPool::Sqlite($pool) => $body,
            $crate::pool::DbPool::MySql($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// The id the database gave the row just inserted, whatever the backend.
pub(crate) trait InsertedId {
    fn inserted_id(&self) -> i64;
}

impl InsertedId for sqlx::sqlite::SqliteQueryResult {
    fn inserted_id(&self) -> i64 {
        self.last_insert_rowid()
    }
}

impl InsertedId for sqlx::mysql::MySqlQueryResult {
    fn inserted_id(&self) -> i64 {
        self.last_insert_id() as i64
    }
}

fn cache_with(ttl: Duration) -> Option<Arc<ServerListCache>> {
    (!ttl.is_zero()).then(|| Arc::new(ServerListCache::new(ttl)))
}

impl Store {
    /// Opens the database, creating the SQLite file (and its directory) when missing,
    /// runs the migrations and installs the default profile templates.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached, `Migration` when the schema
    /// cannot be brought up to date.
    pub async fn open(config: &StoreConfig) -> StoreResult<Store> {
        let store = match config.database_url.as_deref() {
            Some(url) if url.starts_with("mysql:") || url.starts_with("mariadb:") => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let options = MySqlConnectOptions::from_str(&url)
                    .map_err(|e| StoreError::Unavailable(format!("TARS_DATABASE_URL: {e}")))?;
                let pool = MySqlPoolOptions::new()
                    .max_connections(config.max_connections.unwrap_or(16))
                    .acquire_timeout(config.acquire_timeout)
                    .connect_with(options)
                    .await?;
                MYSQL_MIGRATIONS.run(&pool).await?;
                let ttl = config.server_cache_ttl.unwrap_or(Duration::ZERO);
                Store { pool: DbPool::MySql(pool), server_cache: cache_with(ttl) }
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Unavailable(format!("TARS_DATABASE_URL: {e}")))?
                    .create_if_missing(true);
                Store::open_sqlite(options, config).await?
            }
            Some(other) => {
                return Err(StoreError::Unavailable(format!(
                    "TARS_DATABASE_URL={other:?} is not supported: use mysql://user:pass@host:3306/db_tars or sqlite://path"
                )))
            }
            None => {
                std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                    StoreError::Unavailable(format!(
                        "cannot create data directory {}: {e}",
                        config.data_dir.display()
                    ))
                })?;
                let options = SqliteConnectOptions::new()
                    .filename(config.data_dir.join("tars.db"))
                    .create_if_missing(true);
                Store::open_sqlite(options, config).await?
            }
        };
        crate::default_templates::install_missing(&store).await?;
        Ok(store)
    }

    async fn open_sqlite(
        options: SqliteConnectOptions,
        config: &StoreConfig,
    ) -> StoreResult<Store> {
        // WAL lets readers proceed while one writer commits; busy_timeout turns short
        // write contention into waiting instead of SQLITE_BUSY errors.
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.unwrap_or(4))
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        let ttl = config.server_cache_ttl.unwrap_or(SQLITE_SERVER_CACHE_TTL);
        Ok(Store {
            pool: DbPool::Sqlite(pool),
            server_cache: cache_with(ttl),
        })
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.pool {
            DbPool::Sqlite(_) => Backend::Sqlite,
            DbPool::MySql(_) => Backend::MySql,
        }
    }

    /// One round trip to the database, for readiness probes.
    pub async fn ping(&self) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}
