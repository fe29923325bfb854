//! Profile templates: the layered configuration every server's config is rendered from.
//! A template names its parent; the root template names itself.

use tars_proto::deployer::{ProfileTemplate, ProfileTemplateInput};
use tars_store::{Store, StoreError};

use super::convert;
use super::limits::{self, profile_template};
use crate::error::{DeployerError, DeployerResult};

/// Longest parent chain followed before a chain is declared cyclic.
const MAX_TEMPLATE_DEPTH: usize = 64;

fn template_not_found(id: i64) -> DeployerError {
    DeployerError::NotFound(format!(
        "no profile template with id {id}; find ids with /api/query_profile_template"
    ))
}

/// Fails with a 400 naming `param` when no template is called `name`.
pub async fn require_existing(store: &Store, param: &str, name: &str) -> DeployerResult<()> {
    if store.template_by_name(name).await?.is_some() {
        Ok(())
    } else {
        Err(DeployerError::bad_param(
            param,
            format!("`{name}` is not an existing profile template; see /api/template_name_list"),
        ))
    }
}

fn check_input(input: &ProfileTemplateInput) -> DeployerResult<()> {
    for (param, value) in [
        ("template_name", &input.template_name),
        ("parents_name", &input.parents_name),
        ("profile", &input.profile),
    ] {
        if value.trim().is_empty() {
            return Err(DeployerError::bad_param(param, "is required"));
        }
    }
    for (param, value, column) in [
        (
            "template_name",
            &input.template_name,
            profile_template::TEMPLATE_NAME,
        ),
        (
            "parents_name",
            &input.parents_name,
            profile_template::PARENTS_NAME,
        ),
        ("profile", &input.profile, profile_template::PROFILE),
    ] {
        limits::text(param, value, &column)?;
    }
    if input
        .template_name
        .chars()
        .any(|c| c.is_whitespace() || c == '/')
    {
        return Err(DeployerError::bad_param(
            "template_name",
            "must not contain spaces or `/`",
        ));
    }
    limits::user(&input.user, &profile_template::LASTUSER)
}

/// Checks that `parents_name` exists (or is the template itself, for a root) and that
/// following parents from it never comes back to `template_name`.
async fn check_parent(
    store: &Store,
    template_name: &str,
    parents_name: &str,
) -> DeployerResult<()> {
    if parents_name == template_name {
        return Ok(());
    }
    let mut current = parents_name.to_string();
    for _ in 0..MAX_TEMPLATE_DEPTH {
        let Some(row) = store.template_by_name(&current).await? else {
            return Err(DeployerError::bad_param(
                "parents_name",
                format!(
                    "`{current}` is not an existing profile template; see /api/template_name_list"
                ),
            ));
        };
        let parent = row.parents_name.unwrap_or_default();
        if parent == template_name {
            return Err(DeployerError::bad_param(
                "parents_name",
                format!(
                    "`{parents_name}` descends from `{template_name}`: that would make a cycle"
                ),
            ));
        }
        if parent.is_empty() || parent == current {
            return Ok(());
        }
        current = parent;
    }
    Err(DeployerError::bad_param(
        "parents_name",
        format!("the parent chain of `{parents_name}` is deeper than {MAX_TEMPLATE_DEPTH}"),
    ))
}

/// Adds a template.
pub async fn add_profile_template(
    store: &Store,
    input: ProfileTemplateInput,
) -> DeployerResult<ProfileTemplate> {
    super::access::admin()?;
    check_input(&input)?;
    check_parent(store, &input.template_name, &input.parents_name).await?;
    let now = tars_common::time::now_local();
    let id = match store
        .insert_template(
            &input.template_name,
            &input.parents_name,
            &input.profile,
            now,
            &input.user,
        )
        .await
    {
        Ok(id) => id,
        Err(StoreError::AlreadyExists(_)) => return Err(duplicate_name(&input.template_name)),
        Err(err) => return Err(err.into()),
    };
    by_id(store, id).await
}

fn duplicate_name(name: &str) -> DeployerError {
    DeployerError::Conflict(format!(
        "a profile template named `{name}` already exists; use update_profile_template to change it"
    ))
}

async fn by_id(store: &Store, id: i64) -> DeployerResult<ProfileTemplate> {
    store
        .template_by_id(id)
        .await?
        .map(convert::profile_template)
        .ok_or_else(|| template_not_found(id))
}

/// Rewrites a template. Renaming one that servers use, or that other templates inherit
/// from, would break them and is refused.
pub async fn update_profile_template(
    store: &Store,
    input: ProfileTemplateInput,
) -> DeployerResult<ProfileTemplate> {
    super::access::admin()?;
    let current = store
        .template_by_id(input.id)
        .await?
        .ok_or_else(|| template_not_found(input.id))?;
    check_input(&input)?;
    let current_name = current.template_name.unwrap_or_default();
    if current_name != input.template_name {
        refuse_if_in_use(store, &current_name, "renamed").await?;
    }
    check_parent(store, &input.template_name, &input.parents_name).await?;
    let now = tars_common::time::now_local();
    match store
        .update_template(
            input.id,
            &input.template_name,
            &input.parents_name,
            &input.profile,
            now,
            &input.user,
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::AlreadyExists(_)) => return Err(duplicate_name(&input.template_name)),
        Err(err) => return Err(err.into()),
    }
    by_id(store, input.id).await
}

async fn refuse_if_in_use(store: &Store, name: &str, verb: &str) -> DeployerResult<()> {
    let servers = store.count_servers_using_template(name).await?;
    if servers > 0 {
        return Err(DeployerError::Conflict(format!(
            "profile template `{name}` is used by {servers} server(s) and cannot be {verb}; move them to another template with update_server first"
        )));
    }
    let children: Vec<String> = store
        .query_templates("", name)
        .await?
        .into_iter()
        .filter(|t| {
            t.parents_name.as_deref() == Some(name) && t.template_name.as_deref() != Some(name)
        })
        .filter_map(|t| t.template_name)
        .collect();
    if !children.is_empty() {
        return Err(DeployerError::Conflict(format!(
            "profile template `{name}` is the parent of {} and cannot be {verb}",
            children.join(", ")
        )));
    }
    Ok(())
}

/// Deletes a template nobody uses.
pub async fn delete_profile_template(store: &Store, id: i64) -> DeployerResult<i64> {
    super::access::admin()?;
    let current = store
        .template_by_id(id)
        .await?
        .ok_or_else(|| template_not_found(id))?;
    refuse_if_in_use(
        store,
        current.template_name.as_deref().unwrap_or_default(),
        "deleted",
    )
    .await?;
    if store.delete_template(id).await? {
        Ok(id)
    } else {
        Err(template_not_found(id))
    }
}

/// The template with that name.
pub async fn profile_template(store: &Store, name: &str) -> DeployerResult<ProfileTemplate> {
    if name.is_empty() {
        return Err(DeployerError::bad_param("template_name", "is required"));
    }
    store
        .template_by_name(name)
        .await?
        .map(convert::profile_template)
        .ok_or_else(|| {
            DeployerError::NotFound(format!(
                "no profile template named `{name}`; see /api/template_name_list"
            ))
        })
}

/// Templates whose name and parent contain the given fragments.
pub async fn query_profile_template(
    store: &Store,
    name_contains: &str,
    parent_contains: &str,
) -> DeployerResult<Vec<ProfileTemplate>> {
    Ok(store
        .query_templates(name_contains, parent_contains)
        .await?
        .into_iter()
        .map(convert::profile_template)
        .collect())
}
