use axum::extract::State;
use serde_json::Value;
use tars_proto::deployer::{CommandResult, SendCommandRequest};

use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::state::AppState;

/// Server ids as `1;2;3` (also `,`-separated) or a JSON array of numbers.
fn server_ids(params: &Params) -> ApiResult<Vec<i64>> {
    let bad = |v: &dyn std::fmt::Display| {
        ApiError::bad_param(
            "server_ids",
            format!("must be ids separated by `;`, got {v}"),
        )
    };
    let ids: Vec<i64> = match params.value("server_ids") {
        None => return Err(ApiError::bad_param("server_ids", "is required")),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::Number(n) => n.as_i64().ok_or_else(|| bad(n)),
                Value::String(s) => s.trim().parse().map_err(|_| bad(s)),
                other => Err(bad(other)),
            })
            .collect::<ApiResult<_>>()?,
        Some(Value::Number(n)) => vec![n.as_i64().ok_or_else(|| bad(n))?],
        Some(Value::String(s)) => s
            .split([';', ','])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(|_| bad(&p)))
            .collect::<ApiResult<_>>()?,
        Some(other) => return Err(bad(other)),
    };
    if ids.is_empty() {
        return Err(ApiError::bad_param("server_ids", "is required"));
    }
    Ok(ids)
}

/// `/api/send_command?server_ids=1;2&command=`: sends a custom command to each server
/// through its node; one row per server, a failing node affecting only its own rows.
pub async fn send_command(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<CommandResult>>> {
    let request = SendCommandRequest {
        server_ids: server_ids(&params)?,
        command: params.required_str("command")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.send_command(r).await })
        .await?;
    Ok(Data(reply.results))
}
