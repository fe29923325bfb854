//! The audit log and the call being served ([`tars_common::authz::current`]): a write
//! through the API records its row in the write's own transaction
//! ([`audit_in_tx!`]), so the row and the change commit or roll back together; calls whose
//! row was not written that way (refused, failed, or writing nothing to the database) get
//! it from [`Store::finish_audited_call`] when they end.

use tars_common::authz::{self, Caller};
use tars_common::time::now_local;

use crate::audit::AuditEntry;
use crate::Store;

impl AuditEntry {
    /// The row for `caller`'s call, ended with HTTP `status` (`message` when it failed).
    pub fn of_caller(caller: &Caller, status: u16, message: &str) -> AuditEntry {
        let touched = caller.touched();
        AuditEntry {
            user_name: caller.user.clone(),
            token_id: caller.token_id,
            endpoint: caller.endpoint.clone(),
            application: touched.application,
            server_name: touched.server_name,
            target: touched.target,
            status: i32::from(status),
            message: message.to_string(),
            trace_id: caller.trace_id.clone(),
        }
    }
}

/// Endpoints whose outcome is decided after their writes (`upload_and_publish` answers
/// with its task's end): their row is written when the call ends.
const OUTCOME_AFTER_WRITES: &[&str] = &["upload_and_publish"];

/// The successful row of the current call, if it is audited and its row not yet written.
pub(crate) fn pending() -> Option<AuditEntry> {
    let caller = authz::current()?;
    if OUTCOME_AFTER_WRITES.contains(&caller.endpoint.as_str()) {
        return None;
    }
    caller
        .row_pending()
        .then(|| AuditEntry::of_caller(&caller, 200, ""))
}

/// After the transaction that wrote [`pending`]'s row committed.
pub(crate) fn committed() {
    if let Some(caller) = authz::current() {
        caller.mark_recorded();
    }
}

/// Inside a write's transaction (`$tx` from `pool.begin()` in a `with_pool!` arm), before
/// its commit: writes the current call's audit row in it when one is due. Pair with
/// [`committed`] after the commit. Evaluates to `StoreResult<bool>` (whether a row was
/// written).
macro_rules! audit_in_tx {
    ($tx:expr) => {{
        match $crate::audited::pending() {
            Some(entry) => {
                $crate::audit::insert_audit_in_tx!($tx, &entry, ::tars_common::time::now_local())
                    .map(|()| true)
            }
            None => Ok(false),
        }
    }};
}
pub(crate) use audit_in_tx;

impl Store {
    /// Ends the current call for the audit log: when it is audited, logs it (`audit`
    /// target) and writes its row unless its transaction did. Never fails the call: a
    /// row that cannot be written is logged as an error.
    pub async fn finish_audited_call(&self, status: u16, message: &str) {
        let Some(caller) = authz::current() else {
            return;
        };
        if !caller.audited {
            return;
        }
        let entry = AuditEntry::of_caller(&caller, status, message);
        tracing::info!(
            target: "audit",
            user = %entry.user_name,
            token_id = entry.token_id,
            endpoint = %entry.endpoint,
            application = %entry.application,
            server_name = %entry.server_name,
            target_ids = %entry.target,
            status,
            trace_id = %entry.trace_id,
            "audit"
        );
        if !caller.take_recording() {
            return;
        }
        if let Err(err) = self.insert_audit(&entry, now_local()).await {
            tracing::error!(error = %err, endpoint = %entry.endpoint, user = %entry.user_name, "an audit row could not be written");
        }
    }
}
