//! Adapters (servants) of server instances.

mod adapter_conf;
mod adapter_conf_list;
mod add_adapter_conf;
mod delete_adapter_conf;
mod update_adapter_conf;

pub use adapter_conf::adapter_conf;
pub use adapter_conf_list::adapter_conf_list;
pub use add_adapter_conf::add_adapter_conf;
pub use delete_adapter_conf::delete_adapter_conf;
pub use update_adapter_conf::update_adapter_conf;

use tars_proto::deployer::AdapterConfInput;

use crate::error::ApiResult;
use crate::params::Params;

/// The optional adapter fields shared by add and update.
fn adapter_fields(params: &Params, input: &mut AdapterConfInput) -> ApiResult<()> {
    input.thread_num = params.i64("thread_num")?;
    input.endpoint = params.str("endpoint")?;
    input.max_connections = params.i64("max_connections")?;
    input.allow_ip = params.str("allow_ip")?;
    input.servant = params.str("servant")?;
    input.queuecap = params.i64("queuecap")?;
    input.queuetimeout = params.i64("queuetimeout")?;
    input.protocol = params.str("protocol")?;
    input.handlegroup = params.str("handlegroup")?;
    Ok(())
}
