//! `t_config_references`: a configuration file that includes another when tarsconfig
//! assembles it. Which references are allowed is the deployer's rule; this module keeps
//! them consistent with the files (no reference to a file being deleted).

use crate::config_files::ConfigFileRow;
use crate::error::retry_contention;
use crate::pool::{with_pool, InsertedId};
use crate::{Store, StoreResult};

/// One reference: file `config_id` includes file `reference_id`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConfigRefRow {
    /// `t_config_references.id`, the reference's key (the API's `id` of a reference).
    pub id: i64,
    /// `config_id`: the including file (`t_config_files.id`), a server- or node-level file.
    pub config_id: Option<i64>,
    /// `reference_id`: the included file (`t_config_files.id`); tarsconfig puts included
    /// files before the including one, in `reference_id` order.
    pub reference_id: Option<i64>,
}

/// What adding a reference did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefInsertion {
    /// The new reference's id.
    Added(i64),
    /// This file (one of the two) no longer exists.
    MissingFile(i64),
}

impl Store {
    /// One reference.
    pub async fn config_ref_by_id(&self, id: i64) -> StoreResult<Option<ConfigRefRow>> {
        let sql = "SELECT id, config_id, reference_id FROM t_config_references WHERE id = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, ConfigRefRow>(sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Adds a reference after locking both files, so a concurrent delete cannot leave it
    /// dangling. `AlreadyExists` when the pair is already referenced.
    pub async fn insert_config_ref(
        &self,
        config_id: i64,
        reference_id: i64,
    ) -> StoreResult<RefInsertion> {
        retry_contention(|| self.insert_config_ref_once(config_id, reference_id)).await
    }

    async fn insert_config_ref_once(
        &self,
        config_id: i64,
        reference_id: i64,
    ) -> StoreResult<RefInsertion> {
        let lock = format!(
            "SELECT id FROM t_config_files WHERE id IN (?, ?){}",
            self.lock_clause()
        );
        let begin = self.begin_write_sql();
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let present = sqlx::query_scalar::<_, i64>(&lock)
                .bind(config_id)
                .bind(reference_id)
                .fetch_all(&mut *tx)
                .await?;
            if let Some(missing) = [config_id, reference_id].into_iter().find(|id| !present.contains(id)) {
                tx.rollback().await?;
                return Ok(RefInsertion::MissingFile(missing));
            }
            let id = sqlx::query("INSERT INTO t_config_references (config_id, reference_id) VALUES (?, ?)")
                .bind(config_id)
                .bind(reference_id)
                .execute(&mut *tx)
                .await?
                .inserted_id();
            let audited = crate::audited::audit_in_tx!(tx)?;
            tx.commit().await?;
            if audited {
                crate::audited::committed();
            }
            RefInsertion::Added(id)
        }))
    }

    /// Removes a reference; `false` when there was none with that id.
    pub async fn delete_config_ref(&self, id: i64) -> StoreResult<bool> {
        Ok(with_pool!(self, pool => {
            sqlx::query("DELETE FROM t_config_references WHERE id = ?")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        }))
    }

    /// The references of a file with the files they point at, newest reference first.
    /// References to files that no longer exist are left out.
    pub async fn config_refs_with_files(
        &self,
        config_id: i64,
    ) -> StoreResult<Vec<(ConfigRefRow, ConfigFileRow)>> {
        let refs_sql = "SELECT id, config_id, reference_id FROM t_config_references \
             WHERE config_id = ? ORDER BY id DESC";
        let refs = with_pool!(self, pool => {
            sqlx::query_as::<_, ConfigRefRow>(refs_sql).bind(config_id).fetch_all(pool).await?
        });
        let ids: Vec<i64> = refs.iter().filter_map(|r| r.reference_id).collect();
        let files = self.config_files_by_ids(&ids).await?;
        Ok(refs
            .into_iter()
            .filter_map(|r| {
                let file = files.iter().find(|f| Some(f.id) == r.reference_id)?.clone();
                Some((r, file))
            })
            .collect())
    }

    /// The ids a file references, in the order tarsconfig reads them: its lookup goes
    /// through the (config_id, reference_id) unique index, so by reference id.
    pub async fn reference_ids(&self, config_id: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT reference_id FROM t_config_references \
             WHERE config_id = ? AND reference_id IS NOT NULL ORDER BY reference_id";
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(sql).bind(config_id).fetch_all(pool).await?
        }))
    }
}
