//! `t_profile_template`: the configuration templates servers are rendered from.

use chrono::NaiveDateTime;

use crate::args::{bind_args, Filter};
use crate::pool::{with_pool, InsertedId};
use crate::{Store, StoreResult};

/// One template row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProfileTemplateRow {
    /// `t_profile_template.id`, the template's key (the API's `id`).
    pub id: i64,
    /// `template_name`: the unique name servers refer to in `t_server_conf.template_name`,
    /// e.g. `tars.cpp.default`.
    pub template_name: Option<String>,
    /// `parents_name`: the template this one inherits from (this one's values override
    /// the parent's); a root template names itself, as `tars.default` does.
    pub parents_name: Option<String>,
    /// `profile`: the template's text, TARS configuration syntax (`<tars> … </tars>`).
    pub profile: String,
    /// `posttime`: when it was last written (local time).
    pub posttime: Option<NaiveDateTime>,
}

const TEMPLATE_COLUMNS: &str = "id, template_name, parents_name, profile, posttime";

impl Store {
    /// The template with that id.
    pub async fn template_by_id(&self, id: i64) -> StoreResult<Option<ProfileTemplateRow>> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM t_profile_template WHERE id = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, ProfileTemplateRow>(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The template with that name.
    pub async fn template_by_name(&self, name: &str) -> StoreResult<Option<ProfileTemplateRow>> {
        let sql =
            format!("SELECT {TEMPLATE_COLUMNS} FROM t_profile_template WHERE template_name = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, ProfileTemplateRow>(&sql).bind(name).fetch_optional(pool).await?
        }))
    }

    /// Templates whose name and parent name contain the given fragments (empty matches all),
    /// ordered by name.
    pub async fn query_templates(
        &self,
        name_contains: &str,
        parent_contains: &str,
    ) -> StoreResult<Vec<ProfileTemplateRow>> {
        let mut filter = Filter::default();
        if !name_contains.is_empty() {
            filter.contains("template_name", name_contains);
        }
        if !parent_contains.is_empty() {
            filter.contains("parents_name", parent_contains);
        }
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM t_profile_template{} ORDER BY template_name",
            filter.where_sql()
        );
        Ok(with_pool!(self, pool => {
            bind_args!(sqlx::query_as::<_, ProfileTemplateRow>(&sql), filter.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Inserts a template; `AlreadyExists` when the name is taken.
    pub async fn insert_template(
        &self,
        name: &str,
        parents_name: &str,
        profile: &str,
        posttime: NaiveDateTime,
        user: &str,
    ) -> StoreResult<i64> {
        let sql = "INSERT INTO t_profile_template (template_name, parents_name, profile, posttime, lastuser) \
                   VALUES (?, ?, ?, ?, ?)";
        Ok(with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(name)
                .bind(parents_name)
                .bind(profile)
                .bind(posttime)
                .bind(user)
                .execute(pool)
                .await?
                .inserted_id()
        }))
    }

    /// Rewrites template `id`; `AlreadyExists` when renamed onto another template's name.
    pub async fn update_template(
        &self,
        id: i64,
        name: &str,
        parents_name: &str,
        profile: &str,
        posttime: NaiveDateTime,
        user: &str,
    ) -> StoreResult<()> {
        let sql =
            "UPDATE t_profile_template SET template_name = ?, parents_name = ?, profile = ?, \
                   posttime = ?, lastuser = ? WHERE id = ?";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(name)
                .bind(parents_name)
                .bind(profile)
                .bind(posttime)
                .bind(user)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes template `id`; false when it did not exist.
    pub async fn delete_template(&self, id: i64) -> StoreResult<bool> {
        Ok(with_pool!(self, pool => {
            sqlx::query("DELETE FROM t_profile_template WHERE id = ?")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        }))
    }

    /// Every template name, sorted.
    pub async fn template_names(&self) -> StoreResult<Vec<String>> {
        let sql = "SELECT template_name FROM t_profile_template \
                   WHERE template_name IS NOT NULL ORDER BY template_name";
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await?
        }))
    }
}
