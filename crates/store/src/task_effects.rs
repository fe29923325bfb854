//! What a task's commands change in TARS's registry rows (`t_server_conf` and the rows
//! that go with an instance), as AdminRegistry does: the setting state on start/stop,
//! the version after a patch, the rows of an undeployed instance.
//!
//! Each write is fenced by the task's claim (see [`crate::task_queue`]): it runs in a
//! transaction that first locks the claim row under the fence, so a runner that lost
//! its claim changes nothing (the function answers false at once), and a concurrent
//! claim waits for the write to commit.

use chrono::NaiveDateTime;

use crate::pool::with_pool;
use crate::task_queue::{in_fenced_transaction, lock_fence, Fence};
use crate::{Store, StoreResult};

/// Which server instance a command acts on.
#[derive(Debug, Clone, Copy)]
pub struct Instance<'a> {
    /// `t_server_conf.application` of the instance.
    pub application: &'a str,
    /// `t_server_conf.server_name` of the instance.
    pub server_name: &'a str,
    /// `t_server_conf.node_name`: the node it runs on.
    pub node_name: &'a str,
}

impl Store {
    /// Sets an instance's `setting_state` (`active` / `inactive`), as AdminRegistry does
    /// when it starts or stops it. False when the claim was lost.
    pub async fn set_setting_state(
        &self,
        fence: &Fence,
        at: Instance<'_>,
        state: &str,
    ) -> StoreResult<bool> {
        let written: StoreResult<bool> = in_fenced_transaction!(self, fence, tx => {
            sqlx::query("UPDATE t_server_conf SET setting_state = ? WHERE application = ? AND server_name = ? AND node_name = ?")
                .bind(state)
                .bind(at.application)
                .bind(at.server_name)
                .bind(at.node_name)
                .execute(&mut *tx)
                .await?;
        });
        // Reached only once committed: a lost fence returned `Ok(false)` above.
        self.servers_changed();
        written
    }

    /// Records a published version on an instance. False when the claim was lost.
    pub async fn set_patch_version(
        &self,
        fence: &Fence,
        at: Instance<'_>,
        version: &str,
        user: &str,
        local_now: NaiveDateTime,
    ) -> StoreResult<bool> {
        let written: StoreResult<bool> = in_fenced_transaction!(self, fence, tx => {
            sqlx::query("UPDATE t_server_conf SET patch_version = ?, patch_user = ?, patch_time = ? \
                         WHERE application = ? AND server_name = ? AND node_name = ?")
                .bind(version)
                .bind(user)
                .bind(local_now)
                .bind(at.application)
                .bind(at.server_name)
                .bind(at.node_name)
                .execute(&mut *tx)
                .await?;
        });
        // Reached only once committed: a lost fence returned `Ok(false)` above.
        self.servers_changed();
        written
    }

    /// Removes an instance, its adapters and its node-level configuration files (with
    /// the references they held), as undeploying does; server-level files stay. False
    /// when the claim was lost.
    pub async fn delete_server_instance(
        &self,
        fence: &Fence,
        at: Instance<'_>,
    ) -> StoreResult<bool> {
        let config_server = format!("{}.{}", at.application, at.server_name);
        let written: StoreResult<bool> = in_fenced_transaction!(self, fence, tx => {
            sqlx::query("DELETE FROM t_adapter_conf WHERE application = ? AND server_name = ? AND node_name = ?")
                .bind(at.application)
                .bind(at.server_name)
                .bind(at.node_name)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM t_config_references WHERE config_id IN (SELECT id FROM t_config_files \
                 WHERE level = 3 AND server_name = ? AND host = ?)",
            )
            .bind(&config_server)
            .bind(at.node_name)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM t_config_files WHERE level = 3 AND server_name = ? AND host = ?")
                .bind(&config_server)
                .bind(at.node_name)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM t_server_conf WHERE application = ? AND server_name = ? AND node_name = ?")
                .bind(at.application)
                .bind(at.server_name)
                .bind(at.node_name)
                .execute(&mut *tx)
                .await?;
        });
        // Reached only once committed: a lost fence returned `Ok(false)` above.
        self.servers_changed();
        written
    }
}
