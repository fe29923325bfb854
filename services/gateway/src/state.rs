//! What every handler can reach: configuration, backend clients, the ticket cache and
//! its failure throttle, the readiness cache.

use std::sync::Arc;

use tars_packages::PackageStore;

use crate::auth::TicketCache;
use crate::backends::Backends;
use crate::config::Config;
use crate::handlers::health::ReadinessCache;
use crate::throttle::FailureThrottle;

/// Shared, cheaply cloned handler state.
#[derive(Clone)]
pub struct AppState {
    /// The gateway's configuration.
    pub config: Arc<Config>,
    /// gRPC clients of the backends.
    pub backends: Arc<Backends>,
    /// Validated tickets.
    pub tickets: Arc<TicketCache>,
    /// Where uploaded packages are kept.
    pub packages: Arc<PackageStore>,
    /// Failed ticket checks by client address.
    pub auth_throttle: Arc<FailureThrottle>,
    /// The last `/readyz` result.
    pub readiness: Arc<ReadinessCache>,
}
