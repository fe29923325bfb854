//! Deployer configuration, from environment variables.

use std::net::SocketAddr;

use tars_common::env::{var_parsed, EnvError};
use tars_store::StoreConfig;

/// Everything the deployer needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TARS_DEPLOYER_GRPC_ADDR`, default `127.0.0.1:7001`: where the gRPC server listens.
    pub grpc_addr: SocketAddr,
    /// Database settings (`TARS_DATABASE_URL`, `TARS_DATA_DIR`, …).
    pub store: StoreConfig,
    /// How nodes are reached (`TARS_NODE_PORT`, `TARS_NODE_TIMEOUT_MS`, …).
    pub nodes: tars_nodes::NodeConfig,
}

impl Config {
    /// Reads the configuration; errors name the variable at fault.
    pub fn from_env() -> Result<Config, EnvError> {
        Ok(Config {
            grpc_addr: var_parsed("TARS_DEPLOYER_GRPC_ADDR", "127.0.0.1:7001".parse().unwrap())?,
            store: StoreConfig::from_env()?,
            nodes: tars_nodes::NodeConfig::from_env()?,
        })
    }
}
