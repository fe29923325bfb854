//! Compiles `protos/*.proto` with a vendored `protoc`, so a fresh machine needs no
//! system protobuf compiler.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let protos = [
        "protos/common.proto",
        "protos/deployer.proto",
        "protos/config_files.proto",
        "protos/packages.proto",
        "protos/expansion.proto",
        "protos/resource.proto",
        "protos/auth.proto",
        "protos/task_runner.proto",
        "protos/monitor.proto",
    ];
    // The HTTP API answers these messages as JSON with the same field names, so they
    // derive Serialize here instead of being copied field by field in the gateway.
    let serialized = [
        ".tars.deployer.TreeNode",
        ".tars.deployer.ServerConf",
        ".tars.deployer.ServerNotify",
        ".tars.deployer.ServerNotifyPage",
        ".tars.deployer.TarsNodeResult",
        ".tars.deployer.DeployServerReply",
        ".tars.deployer.AdapterConf",
        ".tars.deployer.ProfileTemplate",
        ".tars.deployer.CommandResult",
        ".tars.deployer.RealtimeState",
        ".tars.deployer.ConfigFile",
        ".tars.deployer.ConfigHistory",
        ".tars.deployer.ConfigHistoryPage",
        ".tars.deployer.ConfigRef",
        ".tars.deployer.ConfigRefDetail",
        ".tars.deployer.Package",
        ".tars.deployer.PackagePage",
        ".tars.deployer.ExpandPreviewServer",
        ".tars.deployer.NodePort",
        ".tars.deployer.AuthGrantRow",
        ".tars.deployer.AuditRow",
        ".tars.deployer.AuditPage",
        ".tars.monitor.StatRow",
        ".tars.monitor.PropertyRow",
    ];
    let mut config = tonic_prost_build::configure();
    for message in serialized {
        config = config
            .type_attribute(message, "#[derive(serde::Serialize)]")
            // The HTTP API's OpenAPI document describes them from the same types.
            .type_attribute(
                message,
                "#[cfg_attr(feature = \"openapi\", derive(utoipa::ToSchema))]",
            );
    }
    // A tree node holds tree nodes: its schema refers to itself instead of recursing.
    config = config.field_attribute(
        ".tars.deployer.TreeNode.children",
        "#[cfg_attr(feature = \"openapi\", schema(no_recursion))]",
    );
    config.compile_protos(&protos, &["protos"])?;
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
