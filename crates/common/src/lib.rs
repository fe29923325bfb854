//! Shared plumbing for every service: reading configuration from environment variables
//! ([`env`]), who may do what and who is calling ([`authz`]), logging and tracing setup ([`telemetry`]), trace-context propagation over
//! gRPC ([`propagation`]), who may call a backend's gRPC port ([`grpc_security`]), serving
//! the metrics ([`metrics`]) and the process-wide shutdown signal ([`shutdown`]).
//!
//! No business logic lives here.

pub mod authz;
pub mod env;
pub mod grpc_security;
pub mod metrics;
pub mod networks;
pub mod propagation;
pub mod shutdown;
pub mod telemetry;
pub mod time;
