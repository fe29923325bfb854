//! `t_server_patchs`: the packages uploaded for each server (`App.Server`), as
//! tarsregistry and tarsnode know them. The files themselves live in the package store.

use chrono::NaiveDateTime;

use crate::pool::{with_pool, InsertedId};
use crate::{PageWindow, Store, StoreResult};

/// One package as the API lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PackageRow {
    /// `t_server_patchs.id`: the package's key, which a patch task names (`patch_id`) and
    /// the node reports as the installed version.
    pub id: i64,
    /// `server`: whose package it is, `App.Server`.
    pub server: Option<String>,
    /// `tgz`: the file's name in the package store, `<App>.<Server>_<ms>_<random>.tgz`.
    pub tgz: Option<String>,
    /// `update_text`: the uploader's comment on the release.
    pub update_text: Option<String>,
    /// `md5`: the file's MD5 in hex, checked by the node after download.
    pub md5: Option<String>,
    /// `posttime`: when it was uploaded (local time).
    pub posttime: Option<NaiveDateTime>,
}

const PACKAGE_COLUMNS: &str = "id, server, tgz, update_text, md5, posttime";

/// A package to record.
#[derive(Debug, Clone, Default)]
pub struct NewPackage {
    /// `App.Server`.
    pub server: String,
    /// The file's generated name in the package store (`tgz`).
    pub tgz: String,
    /// The file's MD5 in hex (`md5`).
    pub md5: String,
    /// The uploader's comment, stored in `update_text`.
    pub comment: String,
    /// Who uploaded it (the API's user), stored in `upload_user` and `lastuser`.
    pub user: String,
    /// The upload time, stored in `upload_time` and `posttime` (local time).
    pub posttime: NaiveDateTime,
}

impl Store {
    /// Records an uploaded package; answers its id.
    pub async fn insert_package(&self, package: &NewPackage) -> StoreResult<i64> {
        let sql = "INSERT INTO t_server_patchs (server, version, tgz, update_text, md5, \
             upload_time, upload_user, posttime, lastuser) VALUES (?, '', ?, ?, ?, ?, ?, ?, ?)";
        Ok(with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(&package.server)
                .bind(&package.tgz)
                .bind(&package.comment)
                .bind(&package.md5)
                .bind(package.posttime)
                .bind(&package.user)
                .bind(package.posttime)
                .bind(&package.user)
                .execute(pool)
                .await?
                .inserted_id()
        }))
    }

    /// The package with that id, as the API shows it.
    pub async fn package_by_id(&self, id: i64) -> StoreResult<Option<PackageRow>> {
        let sql = format!("SELECT {PACKAGE_COLUMNS} FROM t_server_patchs WHERE id = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, PackageRow>(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The packages of `server` (`App.Server`), newest first, with their count.
    pub async fn packages_of(
        &self,
        server: &str,
        window: Option<PageWindow>,
    ) -> StoreResult<(i64, Vec<PackageRow>)> {
        let mut sql = format!(
            "SELECT {PACKAGE_COLUMNS} FROM t_server_patchs WHERE server = ? ORDER BY id DESC"
        );
        if let Some(w) = window {
            sql.push_str(&format!(" LIMIT {} OFFSET {}", w.limit, w.offset));
        }
        Ok(with_pool!(self, pool => {
            let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM t_server_patchs WHERE server = ?")
                .bind(server)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query_as::<_, PackageRow>(&sql).bind(server).fetch_all(pool).await?;
            (count, rows)
        }))
    }
}
