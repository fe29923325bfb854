//! The HTTP API contract, as a library: what every endpoint takes ([`inputs`], declared
//! types filled by [`params`]) and answers ([`outputs`]), the one table of endpoints
//! ([`endpoints!`]) the gateway's router and handlers are generated from, and the OpenAPI
//! document generated from the same table ([`openapi`]). No I/O: the gateway serves it.

pub mod endpoints;
pub mod inputs;
pub mod openapi;
pub mod outputs;
pub mod params;

pub use outputs::FromReply;
pub use params::{from_params, ParamError};

/// An endpoint's input as the backend request `R`.
pub trait IntoRequest<R> {
    /// `user` is the caller's name (from the ticket), which writes record.
    fn into_request(self, user: &str) -> Result<R, ParamError>;
}

/// Every type the endpoint table names: `use tars_api::contract::*` where
/// [`endpoints!`] is expanded.
pub mod contract {
    pub use crate::inputs::*;
    pub use crate::outputs::*;
}
