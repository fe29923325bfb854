//! Deployer configuration, from environment variables.

use std::net::SocketAddr;
use std::sync::Arc;

use tars_common::env::{var_parsed, EnvError};
use tars_protocol::client::ClientConfig;
use tars_resource::{Installer, ResourceConfig};
use tars_store::StoreConfig;

/// Everything the deployer needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TARS_DEPLOYER_GRPC_ADDR`, default `127.0.0.1:7001`: where the gRPC server listens.
    pub grpc_addr: SocketAddr,
    /// Database settings (`TARS_DATABASE_URL`, `TARS_DATA_DIR`, …).
    pub store: StoreConfig,
    /// How the service behaves, wherever it runs (own process or in-process).
    pub settings: Settings,
}

/// The settings of the deployer's operations.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How nodes are reached (`TARS_NODE_PORT`, `TARS_NODE_TIMEOUT_MS`, …).
    pub nodes: tars_nodes::NodeConfig,
    /// `TARS_CONFIG_FILE_MAX_BYTES`, default 1 MiB: largest configuration file content
    /// accepted (413 above).
    pub config_file_max_bytes: usize,
    /// The resource module (installing tarsnode over SSH), when `TARS_NODE_PACKAGE` is
    /// set; see [`tars_resource::ResourceConfig`].
    pub resource: Option<Arc<Installer>>,
    /// `TARS_AUDIT_RETENTION_DAYS`, default 365: audit rows older than this are deleted
    /// (hourly); 0 keeps them forever.
    pub audit_retention_days: u32,
}

impl Settings {
    /// Reads the settings; errors name the variable at fault.
    pub fn from_env() -> Result<Settings, EnvError> {
        let nodes = tars_nodes::NodeConfig::from_env()?;
        let resource = ResourceConfig::from_env()?.map(|config| {
            // Installed nodes are called as every node is.
            let node_client = ClientConfig {
                connect_timeout: nodes.connect_timeout,
                call_timeout: nodes.call_timeout,
                ..ClientConfig::default()
            };
            Installer::new(config, node_client)
        });
        Ok(Settings {
            nodes,
            config_file_max_bytes: var_parsed("TARS_CONFIG_FILE_MAX_BYTES", 1 << 20)?,
            resource,
            audit_retention_days: var_parsed("TARS_AUDIT_RETENTION_DAYS", 365)?,
        })
    }
}

impl Config {
    /// Reads the configuration; errors name the variable at fault.
    pub fn from_env() -> Result<Config, EnvError> {
        Ok(Config {
            grpc_addr: var_parsed("TARS_DEPLOYER_GRPC_ADDR", "127.0.0.1:7001".parse().unwrap())?,
            store: StoreConfig::from_env()?,
            settings: Settings::from_env()?,
        })
    }
}
