//! Adding, changing and removing the adapters (servants) of server instances.

use tars_proto::deployer::{AdapterConf, AdapterConfInput};
use tars_store::adapter_conf::{AdapterUpdate, NewAdapter};
use tars_store::{Store, StoreError};

use super::limits::{self, adapter_conf};
use tars_common::authz::Role;

use super::{access, convert, validate};
use crate::error::{DeployerError, DeployerResult};

fn adapter_not_found(id: i64) -> DeployerError {
    DeployerError::NotFound(format!(
        "no adapter with id {id}; list a server's adapters with /api/adapter_conf_list?id=<server id>"
    ))
}

/// The adapter with that id.
pub async fn adapter_conf(store: &Store, id: i64) -> DeployerResult<AdapterConf> {
    let row = store
        .adapter_by_id(id)
        .await?
        .ok_or_else(|| adapter_not_found(id))?;
    access::target(
        Role::Developer,
        row.application.as_deref().unwrap_or_default(),
        row.server_name.as_deref().unwrap_or_default(),
    )?;
    Ok(convert::adapter_conf(row))
}

/// The adapters of the server instance with that id.
pub async fn adapter_conf_list(store: &Store, server_id: i64) -> DeployerResult<Vec<AdapterConf>> {
    let server = store
        .server_by_id(server_id)
        .await?
        .ok_or_else(|| super::servers::server_not_found(server_id))?;
    access::server(Role::Developer, &server)?;
    Ok(store
        .adapters_of_instance(
            server.application.as_deref().unwrap_or_default(),
            server.server_name.as_deref().unwrap_or_default(),
            &server.node_name,
        )
        .await?
        .into_iter()
        .map(convert::adapter_conf)
        .collect())
}

/// Refuses numbers below zero or beyond their `int` columns.
fn check_numbers(input: &AdapterConfInput) -> DeployerResult<()> {
    for (field, value, column) in [
        ("thread_num", input.thread_num, adapter_conf::THREAD_NUM),
        (
            "max_connections",
            input.max_connections,
            adapter_conf::MAX_CONNECTIONS,
        ),
        ("queuecap", input.queuecap, adapter_conf::QUEUECAP),
        (
            "queuetimeout",
            input.queuetimeout,
            adapter_conf::QUEUETIMEOUT,
        ),
    ] {
        if value.is_some_and(|v| v < 0) {
            return Err(DeployerError::bad_param(field, "must not be negative"));
        }
        limits::optional_int(field, value, &column)?;
    }
    Ok(())
}

/// Refuses text `t_adapter_conf` cannot hold; the adapter name is the servant's with
/// `Adapter` appended, in a narrower column than the servant's.
fn check_texts(input: &AdapterConfInput) -> DeployerResult<()> {
    for (param, value, column) in [
        ("endpoint", &input.endpoint, adapter_conf::ENDPOINT),
        ("allow_ip", &input.allow_ip, adapter_conf::ALLOW_IP),
        ("servant", &input.servant, adapter_conf::SERVANT),
        ("protocol", &input.protocol, adapter_conf::PROTOCOL),
        ("handlegroup", &input.handlegroup, adapter_conf::HANDLEGROUP),
    ] {
        limits::optional_text(param, value.as_deref(), &column)?;
    }
    if let Some(servant) = &input.servant {
        limits::derived(
            &["servant"],
            "the adapter name",
            &format!("{servant}Adapter"),
            &adapter_conf::ADAPTER_NAME,
        )?;
    }
    Ok(())
}

/// A servant name must be `<application>.<server>.<object>` of its own server.
fn check_servant(servant: &str, application: &str, server_name: &str) -> DeployerResult<()> {
    let prefix = format!("{application}.{server_name}.");
    match servant.strip_prefix(&prefix) {
        Some(obj) if !obj.is_empty() => validate::name("servant", obj),
        _ => Err(DeployerError::bad_param(
            "servant",
            format!("`{servant}` must be `{prefix}<ObjName>`"),
        )),
    }
}

/// Adds an adapter to a deployed server instance.
pub async fn add_adapter_conf(
    store: &Store,
    input: AdapterConfInput,
) -> DeployerResult<AdapterConf> {
    validate::stored_name(
        "application",
        &input.application,
        &adapter_conf::APPLICATION,
    )?;
    validate::stored_name(
        "server_name",
        &input.server_name,
        &adapter_conf::SERVER_NAME,
    )?;
    validate::node_name("node_name", &input.node_name)?;
    access::target(Role::Operator, &input.application, &input.server_name)?;
    limits::user(&input.user, &adapter_conf::LASTUSER)?;
    check_texts(&input)?;
    let servant = input
        .servant
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DeployerError::bad_param("servant", "is required"))?;
    check_servant(&servant, &input.application, &input.server_name)?;
    let endpoint = input
        .endpoint
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DeployerError::bad_param("endpoint", "is required"))?;
    validate::endpoint("endpoint", &endpoint)?;
    check_numbers(&input)?;
    if store
        .server_by_name(&input.application, &input.server_name, &input.node_name)
        .await?
        .is_none()
    {
        return Err(DeployerError::NotFound(format!(
            "server {}.{} is not deployed on node {}; deploy it first with deploy_server",
            input.application, input.server_name, input.node_name
        )));
    }
    let positive_or = |v: Option<i64>, d: i64| v.filter(|v| *v > 0).unwrap_or(d);
    let adapter = NewAdapter {
        application: input.application.clone(),
        server_name: input.server_name.clone(),
        node_name: input.node_name.clone(),
        adapter_name: format!("{servant}Adapter"),
        thread_num: positive_or(input.thread_num, 1),
        endpoint,
        max_connections: positive_or(input.max_connections, 100_000),
        allow_ip: input.allow_ip.clone().unwrap_or_default(),
        servant: servant.clone(),
        queuecap: positive_or(input.queuecap, 50_000),
        queuetimeout: positive_or(input.queuetimeout, 20_000),
        protocol: input
            .protocol
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "tars".into()),
        handlegroup: input.handlegroup.clone().unwrap_or_default(),
        posttime: tars_common::time::now_local(),
        lastuser: input.user.clone(),
    };
    let id = match store.insert_adapter(&adapter).await {
        Ok(id) => id,
        Err(StoreError::AlreadyExists(_)) => {
            return Err(DeployerError::Conflict(format!(
                "servant {servant} already has an adapter on node {}; use update_adapter_conf to change it",
                input.node_name
            )))
        }
        Err(err) => return Err(err.into()),
    };
    adapter_conf(store, id).await
}

/// Changes an adapter; unset fields keep their value.
pub async fn update_adapter_conf(
    store: &Store,
    input: AdapterConfInput,
) -> DeployerResult<AdapterConf> {
    let current = store
        .adapter_by_id(input.id)
        .await?
        .ok_or_else(|| adapter_not_found(input.id))?;
    access::target(
        Role::Operator,
        current.application.as_deref().unwrap_or_default(),
        current.server_name.as_deref().unwrap_or_default(),
    )?;
    check_texts(&input)?;
    if let Some(endpoint) = input.endpoint.as_deref() {
        validate::endpoint("endpoint", endpoint)?;
    }
    let servant = input.servant.clone().filter(|s| !s.is_empty());
    if let Some(servant) = &servant {
        check_servant(
            servant,
            current.application.as_deref().unwrap_or_default(),
            current.server_name.as_deref().unwrap_or_default(),
        )?;
    }
    check_numbers(&input)?;
    let update = AdapterUpdate {
        adapter_name: servant.as_ref().map(|s| format!("{s}Adapter")),
        servant,
        thread_num: input.thread_num,
        endpoint: input.endpoint,
        max_connections: input.max_connections,
        allow_ip: input.allow_ip,
        queuecap: input.queuecap,
        queuetimeout: input.queuetimeout,
        protocol: input.protocol,
        handlegroup: input.handlegroup,
    };
    match store
        .update_adapter(input.id, &update, tars_common::time::now_local())
        .await
    {
        Ok(()) => {}
        Err(StoreError::AlreadyExists(_)) => {
            return Err(DeployerError::Conflict(
                "another adapter of this server instance already uses that servant".into(),
            ))
        }
        Err(err) => return Err(err.into()),
    }
    store
        .adapter_by_id(input.id)
        .await?
        .map(convert::adapter_conf)
        .ok_or_else(|| adapter_not_found(input.id))
}

/// Removes an adapter.
pub async fn delete_adapter_conf(store: &Store, id: i64) -> DeployerResult<i64> {
    let current = store
        .adapter_by_id(id)
        .await?
        .ok_or_else(|| adapter_not_found(id))?;
    access::target(
        Role::Operator,
        current.application.as_deref().unwrap_or_default(),
        current.server_name.as_deref().unwrap_or_default(),
    )?;
    if store.delete_adapter(id).await? {
        Ok(id)
    } else {
        Err(adapter_not_found(id))
    }
}
