//! Who may call a backend's gRPC port: the gateways, proving it with a shared secret
//! (`TARS_INTERNAL_TOKEN`, sent as `authorization: Bearer …` by every client and checked
//! in constant time by every server), optionally over TLS (`TARS_GRPC_TLS_CERT` /
//! `TARS_GRPC_TLS_KEY`: this process's identity; `TARS_GRPC_TLS_CA`: the authority peers'
//! certificates must chain to — clients verify servers with it, and a server that has
//! it also requires client certificates).
//!
//! Standalone mode calls the backends in-process and needs neither. A backend that
//! listens on anything but loopback refuses to start without the token: anyone who
//! reaches its port could otherwise read every configuration file and token hash.

use std::net::SocketAddr;
use std::path::PathBuf;

use http::HeaderValue;
use subtle::ConstantTimeEq;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};
use tonic::{Request, Status};

use crate::env::{var, EnvError};

/// The shortest internal token accepted: long enough that guessing is hopeless.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The marker in the refusal's message, so a gateway can tell "you are not allowed in"
/// (a configuration problem between services) from its callers' own authentication.
pub const REFUSAL_MARKER: &str = "internal token";

/// The gRPC security settings of one process.
#[derive(Clone, Default)]
pub struct GrpcSecurity {
    token: Option<String>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
    ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for GrpcSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcSecurity")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("tls_identity", &self.identity.is_some())
            .field("tls_ca", &self.ca.is_some())
            .finish()
    }
}

fn read_file(name: &'static str, path: &str) -> Result<Vec<u8>, EnvError> {
    std::fs::read(PathBuf::from(path)).map_err(|e| EnvError {
        name,
        value: path.to_string(),
        reason: format!("cannot read it: {e}"),
    })
}

impl GrpcSecurity {
    /// Reads `TARS_INTERNAL_TOKEN`, `TARS_GRPC_TLS_CERT`, `TARS_GRPC_TLS_KEY` and
    /// `TARS_GRPC_TLS_CA` (the files are read now, so a wrong path fails at start).
    ///
    /// # Errors
    /// A token shorter than [`MIN_TOKEN_CHARS`], a certificate without its key (or the
    /// reverse), or a file that cannot be read.
    pub fn from_env() -> Result<GrpcSecurity, EnvError> {
        let token = var("TARS_INTERNAL_TOKEN");
        if let Some(t) = &token {
            if t.chars().count() < MIN_TOKEN_CHARS || HeaderValue::from_str(t).is_err() {
                return Err(EnvError {
                    name: "TARS_INTERNAL_TOKEN",
                    value: "<hidden>".into(),
                    reason: format!(
                        "must be at least {MIN_TOKEN_CHARS} printable characters (e.g. `openssl rand -hex 32`)"
                    ),
                });
            }
        }
        let identity = match (var("TARS_GRPC_TLS_CERT"), var("TARS_GRPC_TLS_KEY")) {
            (Some(cert), Some(key)) => Some((
                read_file("TARS_GRPC_TLS_CERT", &cert)?,
                read_file("TARS_GRPC_TLS_KEY", &key)?,
            )),
            (None, None) => None,
            (Some(cert), None) => {
                return Err(EnvError {
                    name: "TARS_GRPC_TLS_CERT",
                    value: cert,
                    reason: "is set without TARS_GRPC_TLS_KEY; set both".into(),
                })
            }
            (None, Some(key)) => {
                return Err(EnvError {
                    name: "TARS_GRPC_TLS_KEY",
                    value: key,
                    reason: "is set without TARS_GRPC_TLS_CERT; set both".into(),
                })
            }
        };
        let ca = match var("TARS_GRPC_TLS_CA") {
            Some(path) => Some(read_file("TARS_GRPC_TLS_CA", &path)?),
            None => None,
        };
        Ok(GrpcSecurity {
            token,
            identity,
            ca,
        })
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Refuses to serve `service` on a non-loopback `addr` without a token.
    ///
    /// # Errors
    /// The reason, naming the variables to set.
    pub fn check_listen(
        &self,
        service: &str,
        addr_variable: &str,
        addr: SocketAddr,
    ) -> Result<(), String> {
        if self.token.is_none() && !addr.ip().is_loopback() {
            return Err(format!(
                "{service} would listen on {addr} ({addr_variable}) without TARS_INTERNAL_TOKEN: \
                 anyone reaching that port could read and change everything. Set the same \
                 TARS_INTERNAL_TOKEN (at least {MIN_TOKEN_CHARS} characters) on every gateway and \
                 backend, or listen on 127.0.0.1"
            ));
        }
        Ok(())
    }

    /// The server's TLS settings, when it has an identity.
    pub fn server_tls(&self) -> Option<ServerTlsConfig> {
        let (cert, key) = self.identity.as_ref()?;
        let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
        if let Some(ca) = &self.ca {
            tls = tls.client_ca_root(Certificate::from_pem(ca));
        }
        Some(tls)
    }

    /// The client's TLS settings, when a CA to verify servers with is configured.
    pub fn client_tls(&self) -> Option<ClientTlsConfig> {
        let ca = self.ca.as_ref()?;
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        if let Some((cert, key)) = &self.identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        Some(tls)
    }

    /// The `authorization` header clients send, when a token is configured.
    pub fn client_header(&self) -> Option<HeaderValue> {
        let token = self.token.as_ref()?;
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).expect("checked at configuration");
        value.set_sensitive(true);
        Some(value)
    }

    /// The server-side check, as a tonic interceptor: every call must carry the token
    /// (everything passes when none is configured, i.e. loopback-only backends).
    pub fn interceptor(&self) -> TokenCheck {
        TokenCheck {
            expected: self
                .token
                .as_ref()
                .map(|t| format!("Bearer {t}").into_bytes()),
        }
    }
}

/// Serves one gRPC service on `listener` until `shutdown`, with this process's TLS and
/// token check (the same for every backend).
///
/// # Errors
/// When the TLS settings are unusable or the server fails.
pub async fn serve<S>(
    listener: tokio::net::TcpListener,
    service: S,
    security: &GrpcSecurity,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), tonic::transport::Error>
where
    S: tower_service::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = security.server_tls() {
        builder = builder.tls_config(tls)?;
    }
    builder
        .layer(tonic::service::InterceptorLayer::new(
            security.interceptor(),
        ))
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
}

/// Checks the internal token of each call.
#[derive(Clone)]
pub struct TokenCheck {
    expected: Option<Vec<u8>>,
}

impl tonic::service::Interceptor for TokenCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.expected else {
            return Ok(request);
        };
        let given = request
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        // Lengths may differ; `ct_eq` on slices is constant-time for equal lengths and
        // false otherwise, which leaks only the length of a wrong guess.
        if bool::from(given.ct_eq(expected.as_slice())) {
            return Ok(request);
        }
        let peer = request
            .remote_addr()
            .map_or_else(|| "unknown".to_string(), |a| a.to_string());
        tracing::warn!(%peer, presented = !given.is_empty(), "refused a gRPC call without the right internal token");
        Err(Status::unauthenticated(format!(
            "this backend requires the {REFUSAL_MARKER} (TARS_INTERNAL_TOKEN) of the platform's gateways"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::service::Interceptor;

    fn with_token(token: &str) -> GrpcSecurity {
        GrpcSecurity {
            token: Some(token.into()),
            ..GrpcSecurity::default()
        }
    }

    #[test]
    fn the_token_is_checked_exactly() {
        let security = with_token("0123456789abcdef-secret");
        let mut check = security.interceptor();
        let mut request = Request::new(());
        request.metadata_mut().insert(
            "authorization",
            "Bearer 0123456789abcdef-secret".parse().unwrap(),
        );
        assert!(check.call(request).is_ok());
        for wrong in [
            "",
            "Bearer 0123456789abcdef-secreT",
            "Bearer 0123456789abcdef-secret2",
        ] {
            let mut request = Request::new(());
            if !wrong.is_empty() {
                request
                    .metadata_mut()
                    .insert("authorization", wrong.parse().unwrap());
            }
            let refused = check.call(request).unwrap_err();
            assert_eq!(refused.code(), tonic::Code::Unauthenticated);
            assert!(refused.message().contains(REFUSAL_MARKER));
        }
        assert!(GrpcSecurity::default()
            .interceptor()
            .call(Request::new(()))
            .is_ok());
    }

    #[test]
    fn only_loopback_may_do_without_a_token() {
        let none = GrpcSecurity::default();
        assert!(none
            .check_listen("deployer", "X", "127.0.0.1:7001".parse().unwrap())
            .is_ok());
        assert!(none
            .check_listen("deployer", "X", "[::1]:7001".parse().unwrap())
            .is_ok());
        let err = none
            .check_listen(
                "deployer",
                "TARS_DEPLOYER_GRPC_ADDR",
                "0.0.0.0:7001".parse().unwrap(),
            )
            .unwrap_err();
        assert!(err.contains("TARS_INTERNAL_TOKEN") && err.contains("TARS_DEPLOYER_GRPC_ADDR"));
        assert!(with_token("0123456789abcdef")
            .check_listen("deployer", "X", "10.0.0.5:7001".parse().unwrap())
            .is_ok());
    }
}
