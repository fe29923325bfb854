//! Who may call the backends' gRPC ports: only callers with the shared internal token
//! (and, with TLS, a certificate from the platform's CA). A backend on a public address
//! refuses to start without the token; the split layout works with the token and over
//! TLS; a gateway with the wrong token says so instead of blaming the caller's ticket.

use std::process::Command;

use tars_proto::common::Empty;
use tars_proto::deployer::deployer_client::DeployerClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::common::certs::write_pki;
use crate::common::{binary, Api, Backend, Platform, PlatformOptions, Process};
use crate::fixtures::deploy;

const TOKEN: &str = "e2e-internal-token-0123456789";

fn env_value<'a>(p: &'a Platform, name: &str) -> &'a str {
    p.env
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} is not in the platform's environment"))
}

/// Calls ActiveTokens (token hashes and users: what an intruder would want) directly.
async fn active_tokens(channel: Channel, token: Option<&str>) -> Result<usize, tonic::Status> {
    let mut request = tonic::Request::new(Empty {});
    if let Some(t) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    DeployerClient::new(channel)
        .active_tokens(request)
        .await
        .map(|r| r.into_inner().tokens.len())
}

#[test]
fn a_backend_on_a_public_address_needs_the_token_to_start() {
    for (binary_name, addr_variable) in [
        ("tars-deployer", "TARS_DEPLOYER_GRPC_ADDR"),
        ("tars-task-runner", "TARS_TASK_RUNNER_GRPC_ADDR"),
        ("tars-monitor", "TARS_MONITOR_GRPC_ADDR"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        // The check runs before anything is bound, so no port opens.
        let output = Command::new(binary(binary_name))
            .env_clear()
            .env("TARS_DATA_DIR", dir.path())
            .env(addr_variable, "0.0.0.0:0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{binary_name} started without a token"
        );
        assert!(
            stderr.contains("TARS_INTERNAL_TOKEN") && stderr.contains(addr_variable),
            "{binary_name}: {stderr}"
        );
        let short = Command::new(binary(binary_name))
            .env_clear()
            .env("TARS_DATA_DIR", dir.path())
            .env(addr_variable, "0.0.0.0:0")
            .env("TARS_INTERNAL_TOKEN", "short")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&short.stderr);
        assert!(!short.status.success());
        assert!(stderr.contains("at least 16"), "{binary_name}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_split_layout_runs_on_the_token_and_refuses_callers_without_it() {
    let options = PlatformOptions {
        env: vec![("TARS_INTERNAL_TOKEN".into(), TOKEN.into())],
        ..PlatformOptions::default()
    };
    let p = Platform::start_split(Backend::MariaDb, options).await;
    let conf = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    assert_eq!(
        conf["server_name"], "Cart",
        "the gateway reaches its backends"
    );

    let deployer = Endpoint::from_shared(env_value(&p, "TARS_DEPLOYER_URL").to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    for wrong in [None, Some("e2e-internal-token-012345678X")] {
        let refused = active_tokens(deployer.clone(), wrong).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{wrong:?}");
    }
    assert!(active_tokens(deployer, Some(TOKEN)).await.unwrap() >= 1);

    // A gateway configured with another token cannot serve, and says why.
    let mut env: Vec<(String, String)> = p
        .env
        .iter()
        .filter(|(k, _)| k != "TARS_INTERNAL_TOKEN")
        .cloned()
        .collect();
    env.push((
        "TARS_INTERNAL_TOKEN".into(),
        "another-token-0123456789abcdef".into(),
    ));
    let (_gateway, addr) = Process::spawn(
        "tars-gateway",
        &binary("tars-gateway"),
        &[],
        &env,
        &p.dir.path().join("gateway-wrong-token.log"),
    );
    let wrong = Api::new(&addr, p.api.ticket().map(str::to_string));
    let id = conf["id"].as_i64().unwrap().to_string();
    wrong
        .get("/api/server", &[("id", &id)])
        .await
        .err(503, "TARS_INTERNAL_TOKEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_split_layout_runs_over_mutual_tls() {
    let certs = tempfile::tempdir().unwrap();
    let pki = write_pki(certs.path());
    let options = PlatformOptions {
        env: vec![
            ("TARS_INTERNAL_TOKEN".into(), TOKEN.into()),
            ("TARS_GRPC_TLS_CERT".into(), pki.cert.display().to_string()),
            ("TARS_GRPC_TLS_KEY".into(), pki.key.display().to_string()),
            ("TARS_GRPC_TLS_CA".into(), pki.ca.display().to_string()),
        ],
        ..PlatformOptions::default()
    };
    let p = Platform::start_split(Backend::Sqlite, options).await;
    let conf = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let id = conf["id"].as_i64().unwrap().to_string();
    assert_eq!(p.api.get("/api/server", &[("id", &id)]).await.ok(), &conf);

    let url = env_value(&p, "TARS_DEPLOYER_URL").replace("http://", "https://");
    let ca = Certificate::from_pem(std::fs::read(&pki.ca).unwrap());
    let plain = env_value(&p, "TARS_DEPLOYER_URL").to_string();
    // Plain text to a TLS port: no gRPC answer at all.
    let plain = Endpoint::from_shared(plain).unwrap().connect_lazy();
    assert!(active_tokens(plain, Some(TOKEN)).await.is_err());
    // TLS without a client certificate: the handshake is refused.
    let anonymous = Endpoint::from_shared(url.clone())
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(ca.clone()))
        .unwrap()
        .connect_lazy();
    assert!(active_tokens(anonymous, Some(TOKEN)).await.is_err());
    // With the platform's certificate and token: served.
    let identity = Identity::from_pem(
        std::fs::read(&pki.cert).unwrap(),
        std::fs::read(&pki.key).unwrap(),
    );
    let trusted = Endpoint::from_shared(url)
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(ca).identity(identity))
        .unwrap()
        .connect_lazy();
    assert!(active_tokens(trusted.clone(), Some(TOKEN)).await.unwrap() >= 1);
    assert_eq!(
        active_tokens(trusted, None).await.unwrap_err().code(),
        tonic::Code::Unauthenticated,
        "TLS does not replace the token"
    );
}
