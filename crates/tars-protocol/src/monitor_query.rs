//! TARS's `MonitorQuery` interface (`framework/MonitorQuery.tars`), served by
//! tarsquerystat and tarsqueryproperty: one `query` asking for sums of some columns of
//! the call-statistics or property tables, filtered and grouped. A typed client (what the
//! monitor service uses) and a servant trait with its dispatcher (what the query-server
//! double serves).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::client::{ClientConfig, ServantClient};
use crate::codec::{Field, Reader, TarsStruct, Writer};
use crate::node::{answer, check_out, malformed};
use crate::packet::{ParamsWriter, VERSION_TARS};
use crate::server::{Call, DispatchError, Servant};
use crate::{struct_field, CallError, DecodeError};

/// `OP`: how a condition compares its field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// SQL `=`.
    Eq = 0,
    /// SQL `>`.
    Gt = 1,
    /// SQL `>=`.
    Gte = 2,
    /// SQL `<`.
    Lt = 3,
    /// SQL `<=`.
    Lte = 4,
    /// SQL `LIKE`: `%` and `_` are wildcards; the value is not wrapped in `%`.
    Like = 5,
}

impl Op {
    fn from_wire(value: i32) -> Option<Op> {
        Some(match value {
            0 => Op::Eq,
            1 => Op::Gt,
            2 => Op::Gte,
            3 => Op::Lt,
            4 => Op::Lte,
            5 => Op::Like,
            _ => return None,
        })
    }
}

/// `Condition`: `field op 'val'` (the value always travels as data, never as SQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The column compared, e.g. `master_name` or `slave_ip`.
    pub field: String,
    /// `None` for an operator this side does not know (the query servers skip those).
    pub op: Option<Op>,
    /// The value compared with, as text; for [`Op::Like`] a pattern.
    pub val: String,
}

impl TarsStruct for Condition {
    fn write_fields(&self, w: &mut Writer) {
        self.field.write(w, 0);
        self.op.map_or(-1, |op| op as i32).write(w, 1);
        self.val.write(w, 2);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Condition {
            field: r.required(0)?,
            op: Op::from_wire(r.required::<i32>(1)?),
            val: r.required(2)?,
        })
    }
}

/// `MonitorQueryReq`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitorQueryReq {
    /// Identifies the request in the query server's logs; the monitor sends a random
    /// 16-hex-digit id.
    pub uid: String,
    /// Always `query`.
    pub method: String,
    /// `tars_stat` or `tars_property`.
    pub dataid: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// First and last time point, `HHMM`.
    pub tflag1: String,
    /// See `tflag1`; the range is inclusive.
    pub tflag2: String,
    /// Filters on the rows summed; all must hold.
    pub conditions: Vec<Condition>,
    /// Columns summed, in the order of the answer's vectors.
    pub indexs: Vec<String>,
    /// Columns grouped by, in the order of the answer's `k1,k2,…` keys.
    pub groupby: Vec<String>,
}

impl TarsStruct for MonitorQueryReq {
    fn write_fields(&self, w: &mut Writer) {
        self.uid.write(w, 0);
        self.method.write(w, 1);
        self.dataid.write(w, 2);
        self.date.write(w, 3);
        self.tflag1.write(w, 4);
        self.tflag2.write(w, 5);
        self.conditions.write(w, 6);
        self.indexs.write(w, 7);
        self.groupby.write(w, 8);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MonitorQueryReq {
            uid: r.required(0)?,
            method: r.required(1)?,
            dataid: r.required(2)?,
            date: r.required(3)?,
            tflag1: r.required(4)?,
            tflag2: r.required(5)?,
            conditions: r.required(6)?,
            indexs: r.required(7)?,
            groupby: r.required(8)?,
        })
    }
}

/// `MonitorQueryRsp`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonitorQueryRsp {
    /// 0 success, -1 failure (`msg` says why).
    pub ret: i32,
    /// Why the query failed (e.g. an unknown column); empty on success.
    pub msg: String,
    /// The latest time point (`HHMM`) among the rows summed; empty when none matched.
    pub last_time: String,
    /// How many of the query server's databases answered.
    pub active_db: i32,
    /// How many databases the query server is configured with (shards of the statistics
    /// tables).
    pub total_db: i32,
    /// One result code per database queried (0 success).
    pub ret_threads: Vec<i32>,
    /// `k1,k2,…` (the group values) → the sums, in `indexs` order.
    pub result: BTreeMap<String, Vec<f64>>,
}

impl TarsStruct for MonitorQueryRsp {
    fn write_fields(&self, w: &mut Writer) {
        self.ret.write(w, 0);
        self.msg.write(w, 1);
        self.last_time.write(w, 2);
        self.active_db.write(w, 3);
        self.total_db.write(w, 4);
        self.ret_threads.write(w, 5);
        self.result.write(w, 6);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MonitorQueryRsp {
            ret: r.required(0)?,
            msg: r.optional(1, String::new())?,
            last_time: r.required(2)?,
            active_db: r.required(3)?,
            total_db: r.required(4)?,
            ret_threads: r.required(5)?,
            result: r.optional(6, BTreeMap::new())?,
        })
    }
}

struct_field!(Condition, MonitorQueryReq, MonitorQueryRsp);

/// A client of one query server.
#[derive(Debug)]
pub struct MonitorQueryClient {
    client: ServantClient,
    version: i16,
}

impl MonitorQueryClient {
    /// A client of `servant` at `addr` (`host:port`), speaking the TARS layout.
    pub fn new(
        addr: impl Into<String>,
        servant: impl Into<String>,
        config: ClientConfig,
    ) -> MonitorQueryClient {
        MonitorQueryClient {
            client: ServantClient::new(addr, servant, config),
            version: VERSION_TARS,
        }
    }

    /// The query server's address.
    pub fn addr(&self) -> &str {
        self.client.addr()
    }

    /// `query`: the interface's return value and the answer.
    pub async fn query(
        &self,
        req: &MonitorQueryReq,
        timeout: Option<Duration>,
    ) -> Result<(i32, MonitorQueryRsp), CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "req", req);
        let reply = self
            .client
            .invoke("query", self.version, p.finish(), timeout)
            .await?;
        let m = malformed(self.addr());
        Ok((
            reply.params.required(0, "").map_err(&m)?,
            reply.params.required(2, "rsp").map_err(&m)?,
        ))
    }
}

/// What a query server does.
pub trait MonitorQueryServant: Send + Sync + 'static {
    /// Answers one `query`: the interface's return value (0 success, -1 failure, as `ret`)
    /// and the answer.
    fn query(&self, req: MonitorQueryReq) -> impl Future<Output = (i32, MonitorQueryRsp)> + Send;
}

/// Serves a [`MonitorQueryServant`] as the `MonitorQuery` interface.
pub struct MonitorQueryDispatcher<T>(pub Arc<T>);

impl<T: MonitorQueryServant> Servant for MonitorQueryDispatcher<T> {
    async fn dispatch(&self, call: Call) -> Result<Bytes, DispatchError> {
        match call.func.as_str() {
            "query" => {
                let req: MonitorQueryReq = call.params.required(1, "req")?;
                check_out::<MonitorQueryRsp>(&call, 2, "rsp")?;
                let (ret, rsp) = self.0.query(req).await;
                Ok(answer(&call, |p| {
                    p.put(0, "", &ret).put(2, "rsp", &rsp);
                }))
            }
            _ => Err(DispatchError::NoFunction),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_struct, encode_struct};

    #[test]
    fn requests_and_answers_survive_the_wire() {
        let req = MonitorQueryReq {
            uid: "u".into(),
            method: "query".into(),
            dataid: "tars_stat".into(),
            date: "20261201".into(),
            tflag1: "0000".into(),
            tflag2: "2360".into(),
            conditions: vec![Condition {
                field: "master_name".into(),
                op: Some(Op::Like),
                val: "Shop.Cart' OR 1=1 --".into(),
            }],
            indexs: vec!["succ_count".into(), "total_time".into()],
            groupby: vec!["f_date".into(), "master_name".into()],
        };
        assert_eq!(
            decode_struct::<MonitorQueryReq>(&encode_struct(&req)).unwrap(),
            req
        );
        let mut result = BTreeMap::new();
        result.insert("20261201,Shop.Cart".to_string(), vec![10.0, 2.5]);
        let rsp = MonitorQueryRsp {
            ret: 0,
            msg: String::new(),
            last_time: "1200".into(),
            active_db: 1,
            total_db: 1,
            ret_threads: vec![0],
            result,
        };
        assert_eq!(
            decode_struct::<MonitorQueryRsp>(&encode_struct(&rsp)).unwrap(),
            rsp
        );
    }
}
