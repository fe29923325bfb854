//! Configuration files: adding, changing, deleting and listing them at application/set,
//! server and node level, and their history. Where a file goes follows TarsWeb: the API
//! level (1-4 application or set, 5 server) picks the stored level and `server_name`
//! (`App` or `App.Server`); node-level files are made for every node a server-level file's
//! server is deployed on.

use tars_common::time::{format_api_time, now_local};
use tars_proto::deployer::{
    AddConfigFileRequest, ConfigFile, ConfigFileListRequest, ConfigHistory,
    ConfigHistoryListRequest, ConfigHistoryPage, NodeConfigFileListRequest,
    UpdateConfigFileRequest,
};
use tars_store::config_files::{
    ConfigDeletion, ConfigFileFilter, ConfigFileRow, ConfigHistoryRow, ConfigOrder, ConfigPlace,
    NewConfigFile, LEVEL_APP, LEVEL_NODE, LEVEL_SERVER,
};
use tars_store::server_conf::ServerFilter;
use tars_store::Store;

use tars_common::authz::Role;

use super::limits::{self, config_files, config_history};
use super::{access, paging, validate};
use crate::error::{DeployerError, DeployerResult};

/// One file as the API shows it.
pub fn to_config_file(row: ConfigFileRow) -> ConfigFile {
    ConfigFile {
        id: row.id,
        server_name: row.server_name.unwrap_or_default(),
        node_name: row.host,
        set_name: row.set_name,
        set_area: row.set_area,
        set_group: row.set_group,
        filename: row.filename.unwrap_or_default(),
        config: row.config.unwrap_or_default(),
        level: row.level.unwrap_or_default(),
        posttime: format_api_time(row.posttime),
        lastuser: row.lastuser.unwrap_or_default(),
    }
}

fn history(row: ConfigHistoryRow) -> ConfigHistory {
    ConfigHistory {
        id: row.id,
        config_id: row.configid.unwrap_or_default(),
        reason: row.reason.unwrap_or_default(),
        content: row.content.unwrap_or_default(),
        posttime: format_api_time(row.posttime),
    }
}

/// The 404 for an unknown file id.
pub fn file_not_found(id: i64) -> DeployerError {
    DeployerError::NotFound(format!(
        "no configuration file with id {id}; list them with /api/config_file_list"
    ))
}

/// A file named for an operator: `12 (App.Server/a.conf on node 10.0.0.1)`.
pub fn describe(file: &ConfigFileRow) -> String {
    let mut text = format!(
        "{} ({}/{}",
        file.id,
        file.server_name.as_deref().unwrap_or_default(),
        file.filename.as_deref().unwrap_or_default()
    );
    if !file.set_name.is_empty() {
        text.push_str(&format!(
            " in set {}.{}.{}",
            file.set_name, file.set_area, file.set_group
        ));
    }
    if !file.host.is_empty() {
        text.push_str(&format!(" on node {}", file.host));
    }
    text.push(')');
    text
}

/// The file with that id as the API shows it, or a 404.
pub async fn config_file(store: &Store, id: i64) -> DeployerResult<ConfigFile> {
    let row = load(store, id).await?;
    access::config_file(Role::Developer, &row)?;
    Ok(to_config_file(row))
}

/// The file with that id, or a 404.
pub async fn load(store: &Store, id: i64) -> DeployerResult<ConfigFileRow> {
    store
        .config_file_by_id(id)
        .await?
        .ok_or_else(|| file_not_found(id))
}

/// Refuses a user the file and its history record cannot name.
fn check_user(user: &str) -> DeployerResult<()> {
    limits::user(user, &config_files::LASTUSER)?;
    limits::user(user, &config_history::LASTUSER)
}

/// A plain file name: no directories, no `..`, nothing a node's `tars.loadconfig`
/// command line would split.
pub fn filename(value: &str) -> DeployerResult<String> {
    let name = value.trim();
    if name.is_empty() {
        return Err(DeployerError::bad_param("filename", "is required"));
    }
    limits::text("filename", name, &config_files::FILENAME)?;
    if name.contains(['/', '\\']) || name.contains("..") {
        return Err(DeployerError::bad_param(
            "filename",
            format!("`{name}` must be a plain file name, without `/`, `\\` or `..`"),
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DeployerError::bad_param(
            "filename",
            format!("`{name}` must not contain spaces or control characters"),
        ));
    }
    Ok(name.to_string())
}

/// Refuses content over the configured limit.
pub fn content(config: &str, max_bytes: usize) -> DeployerResult<()> {
    if config.len() > max_bytes {
        return Err(DeployerError::TooLarge(format!(
            "the file content is {} bytes; the limit is {max_bytes} bytes \
             (TARS_CONFIG_FILE_MAX_BYTES)",
            config.len()
        )));
    }
    Ok(())
}

/// The set fields an API level (1-4) names: none (application), set name, set area,
/// set group. Fields below the level must be empty.
fn set_depth_fields(
    level: i64,
    set_name: &str,
    set_area: &str,
    set_group: &str,
) -> DeployerResult<[String; 3]> {
    let given = [
        ("set_name", set_name.trim()),
        ("set_area", set_area.trim()),
        ("set_group", set_group.trim()),
    ];
    let depth = usize::try_from(level - 1).unwrap_or_default();
    for (i, (param, value)) in given.iter().enumerate() {
        if i < depth && value.is_empty() {
            return Err(DeployerError::bad_param(
                param,
                format!("is required at level {level}"),
            ));
        }
        if i >= depth && !value.is_empty() {
            return Err(DeployerError::bad_param(
                param,
                format!(
                    "is given but level {level} does not go down to it; use level {} for it",
                    i + 2
                ),
            ));
        }
    }
    for ((param, value), column) in given.iter().zip(&limits::CONFIG_SET) {
        limits::text(param, value, column)?;
    }
    if depth == 3 {
        validate::set_fields(given[0].1, given[1].1, given[2].1, &limits::CONFIG_SET)?;
    } else {
        for (param, value) in &given[..depth] {
            validate::name(param, value)?;
        }
    }
    Ok(given.map(|(_, value)| value.to_string()))
}

/// A server's set: all three fields or none.
fn server_set(set_name: &str, set_area: &str, set_group: &str) -> DeployerResult<[String; 3]> {
    let given = [
        ("set_name", set_name),
        ("set_area", set_area),
        ("set_group", set_group),
    ];
    if given.iter().all(|(_, v)| v.is_empty()) {
        return Ok(Default::default());
    }
    for (param, value) in &given {
        if value.is_empty() {
            return Err(DeployerError::bad_param(
                param,
                "is required: a server-level file's set names all three of set_name, \
                 set_area and set_group, or none",
            ));
        }
    }
    validate::set_fields(set_name, set_area, set_group, &limits::CONFIG_SET)?;
    Ok([set_name.into(), set_area.into(), set_group.into()])
}

fn level_error(level: i64) -> DeployerError {
    DeployerError::bad_param(
        "level",
        format!(
            "must be 1 (application), 2 (set name), 3 (set area), 4 (set group) or 5 (server), \
             got {level}"
        ),
    )
}

/// The instances a server-level file applies to: those of `application.server` in its
/// set, or without a set when the file has none.
pub fn instances_in_set(application: &str, server: &str, set: [&String; 3]) -> ServerFilter {
    let in_set = !set[0].is_empty();
    ServerFilter {
        application: Some(application.to_string()),
        server_name: Some(server.to_string()),
        enable_set: Some(in_set),
        set_name: in_set.then(|| set[0].clone()),
        set_area: in_set.then(|| set[1].clone()),
        set_group: in_set.then(|| set[2].clone()),
        ..ServerFilter::default()
    }
}

/// Server-level file `file`'s node-level files for every node its server is deployed on
/// (in its set, if it has one), empty.
async fn node_files_for(
    store: &Store,
    file: &ConfigPlace,
    user: &str,
) -> DeployerResult<Vec<NewConfigFile>> {
    let (application, server) = file
        .server_name
        .split_once('.')
        .unwrap_or((file.server_name.as_str(), ""));
    let filter = instances_in_set(
        application,
        server,
        [&file.set_name, &file.set_area, &file.set_group],
    );
    let now = now_local();
    Ok(store
        .list_servers(&filter, None)
        .await?
        .into_iter()
        .map(|server| NewConfigFile {
            place: ConfigPlace {
                host: server.node_name,
                level: LEVEL_NODE,
                ..file.clone()
            },
            config: String::new(),
            posttime: now,
            lastuser: user.to_string(),
        })
        .collect())
}

/// Adds a file; a server-level file also gets its node-level files.
pub async fn add_config_file(
    store: &Store,
    request: AddConfigFileRequest,
    max_bytes: usize,
) -> DeployerResult<ConfigFile> {
    validate::stored_name(
        "application",
        &request.application,
        &config_files::SERVER_NAME,
    )?;
    let server = if request.level == 5 {
        request.server_name.as_str()
    } else {
        ""
    };
    access::target(Role::Operator, &request.application, server)?;
    let filename = filename(&request.filename)?;
    content(&request.config, max_bytes)?;
    check_user(&request.user)?;
    let (server_name, level, [set_name, set_area, set_group]) = match request.level {
        1..=4 => (
            request.application.clone(),
            LEVEL_APP,
            set_depth_fields(
                request.level,
                &request.set_name,
                &request.set_area,
                &request.set_group,
            )?,
        ),
        5 => {
            validate::name("server_name", &request.server_name)?;
            let full = format!("{}.{}", request.application, request.server_name);
            limits::derived(
                &["application", "server_name"],
                "the file's server name",
                &full,
                &config_files::SERVER_NAME,
            )?;
            (
                full,
                LEVEL_SERVER,
                server_set(&request.set_name, &request.set_area, &request.set_group)?,
            )
        }
        other => return Err(level_error(other)),
    };
    let place = ConfigPlace {
        server_name,
        set_name,
        set_area,
        set_group,
        host: String::new(),
        level,
        filename,
    };
    let node_files = if level == LEVEL_SERVER {
        node_files_for(store, &place, &request.user).await?
    } else {
        Vec::new()
    };
    let file = NewConfigFile {
        place,
        config: request.config,
        posttime: now_local(),
        lastuser: request.user,
    };
    let id = store
        .add_config_file(&file, &node_files)
        .await
        .map_err(|err| match err {
            tars_store::StoreError::AlreadyExists(_) => DeployerError::Conflict(format!(
                "{} already has a file named {}{}; change it with /api/update_config_file",
                file.place.server_name,
                file.place.filename,
                if file.place.set_name.is_empty() {
                    String::new()
                } else {
                    format!(
                        " in set {}.{}.{}",
                        file.place.set_name, file.place.set_area, file.place.set_group
                    )
                }
            )),
            other => other.into(),
        })?;
    config_file(store, id).await
}

/// Replaces a file's content and records why.
pub async fn update_config_file(
    store: &Store,
    request: UpdateConfigFileRequest,
    max_bytes: usize,
) -> DeployerResult<ConfigFile> {
    content(&request.config, max_bytes)?;
    limits::text("reason", &request.reason, &config_history::REASON)?;
    check_user(&request.user)?;
    access::config_file(Role::Operator, &load(store, request.id).await?)?;
    let found = store
        .update_config_file(
            request.id,
            &request.config,
            &request.reason,
            &request.user,
            now_local(),
        )
        .await?;
    if !found {
        return Err(file_not_found(request.id));
    }
    config_file(store, request.id).await
}

/// Deletes a file (a server-level file with its node-level files) unless referenced.
pub async fn delete_config_file(store: &Store, id: i64) -> DeployerResult<i64> {
    access::config_file(Role::Operator, &load(store, id).await?)?;
    match store.delete_config_file(id).await? {
        ConfigDeletion::NotFound => Err(file_not_found(id)),
        ConfigDeletion::Referenced(files) => Err(DeployerError::Conflict(format!(
            "configuration file {id} is referenced by {}; remove those references first \
             (/api/delete_config_ref)",
            files.iter().map(describe).collect::<Vec<_>>().join(", ")
        ))),
        ConfigDeletion::Deleted(_) => Ok(id),
    }
}

/// Files of one place in the tree: application (1), set name/area/group (2-4) or server (5).
pub async fn config_file_list(
    store: &Store,
    request: ConfigFileListRequest,
) -> DeployerResult<Vec<ConfigFile>> {
    validate::name("application", &request.application)?;
    let server = if request.level == 5 {
        request.server_name.as_str()
    } else {
        ""
    };
    access::target(Role::Developer, &request.application, server)?;
    let text = |v: &Option<String>| v.as_deref().unwrap_or_default().trim().to_string();
    let filter = match request.level {
        1..=4 => {
            let depth = usize::try_from(request.level - 1).unwrap_or_default();
            let given = [
                ("set_name", text(&request.set_name)),
                ("set_area", text(&request.set_area)),
                ("set_group", text(&request.set_group)),
            ];
            for (param, value) in &given[..depth] {
                if value.is_empty() {
                    return Err(DeployerError::bad_param(
                        param,
                        format!("is required at level {}", request.level),
                    ));
                }
            }
            // Deeper fields are empty at this level, whatever was sent.
            let field = |i: usize| {
                if i < depth {
                    given[i].1.clone()
                } else {
                    String::new()
                }
            };
            ConfigFileFilter {
                level: LEVEL_APP,
                server_name: request.application.clone(),
                set_name: Some(field(0)),
                set_area: Some(field(1)),
                set_group: Some(field(2)),
                ..ConfigFileFilter::default()
            }
        }
        5 => {
            validate::name("server_name", &request.server_name)?;
            ConfigFileFilter {
                level: LEVEL_SERVER,
                server_name: format!("{}.{}", request.application, request.server_name),
                set_name: request.set_name.clone(),
                set_area: request.set_area.clone(),
                set_group: request.set_group.clone(),
                order: ConfigOrder::LastChanged,
                ..ConfigFileFilter::default()
            }
        }
        other => return Err(level_error(other)),
    };
    Ok(store
        .list_config_files(&filter)
        .await?
        .into_iter()
        .map(to_config_file)
        .collect())
}

/// The node-level files of server-level file `config_id`, one per node the server is
/// deployed on: those missing (the server was deployed after the file was added) are
/// created empty first, as TarsWeb does.
pub async fn node_config_file_list(
    store: &Store,
    request: NodeConfigFileListRequest,
) -> DeployerResult<Vec<ConfigFile>> {
    let file = load(store, request.config_id).await?;
    access::config_file(Role::Developer, &file)?;
    if file.level != Some(LEVEL_SERVER) {
        return Err(DeployerError::bad_param(
            "config_id",
            format!(
                "names {}, which is not a server-level file; node files belong to \
                 server-level files (level 5 in config_file_list)",
                describe(&file)
            ),
        ));
    }
    let server_name = file.server_name.clone().unwrap_or_default();
    let (application, server) = server_name.split_once('.').unwrap_or((&server_name, ""));
    let mismatch = |param: &str, given: &str, actual: &str| {
        DeployerError::bad_param(
            param,
            format!(
                "is {given:?} but configuration file {} belongs to {actual:?}",
                request.config_id
            ),
        )
    };
    if !request.application.is_empty() && !request.application.eq_ignore_ascii_case(application) {
        return Err(mismatch("application", &request.application, application));
    }
    if !request.server_name.is_empty() && !request.server_name.eq_ignore_ascii_case(server) {
        return Err(mismatch("server_name", &request.server_name, server));
    }
    for (param, given, actual) in [
        ("set_name", &request.set_name, &file.set_name),
        ("set_area", &request.set_area, &file.set_area),
        ("set_group", &request.set_group, &file.set_group),
    ] {
        if let Some(given) = given {
            if !given.eq_ignore_ascii_case(actual) {
                return Err(mismatch(param, given, actual));
            }
        }
    }
    let place = ConfigPlace {
        server_name: server_name.clone(),
        set_name: file.set_name.clone(),
        set_area: file.set_area.clone(),
        set_group: file.set_group.clone(),
        host: String::new(),
        level: LEVEL_SERVER,
        filename: file.filename.clone().unwrap_or_default(),
    };
    let filter = ConfigFileFilter {
        level: LEVEL_NODE,
        server_name,
        set_name: Some(place.set_name.clone()),
        set_area: Some(place.set_area.clone()),
        set_group: Some(place.set_group.clone()),
        filename: Some(place.filename.clone()),
        order: ConfigOrder::NewestCreated,
    };
    let mut files = store.list_config_files(&filter).await?;
    // A read that writes only when an instance has no node file yet.
    let missing: Vec<NewConfigFile> = node_files_for(store, &place, &request.user)
        .await?
        .into_iter()
        .filter(|f| {
            !files
                .iter()
                .any(|have| have.host.eq_ignore_ascii_case(&f.place.host))
        })
        .collect();
    if !missing.is_empty() {
        check_user(&request.user)?;
    }
    if !missing.is_empty() && store.add_missing_config_files(&missing).await? > 0 {
        files = store.list_config_files(&filter).await?;
    }
    Ok(files.into_iter().map(to_config_file).collect())
}

/// One history record.
pub async fn config_file_history(store: &Store, id: i64) -> DeployerResult<ConfigHistory> {
    let row = store.config_history_by_id(id).await?.ok_or_else(|| {
        DeployerError::NotFound(format!(
            "no configuration history record with id {id}; list a file's records with \
             /api/config_file_history_list?config_id="
        ))
    })?;
    history_readable(store, row.configid.unwrap_or_default()).await?;
    Ok(history(row))
}

/// A file's history is read with the file's role; a deleted file's history needs the
/// role on every application (`*`), since nothing says whose it was.
async fn history_readable(store: &Store, config_id: i64) -> DeployerResult<()> {
    match store.config_file_by_id(config_id).await? {
        Some(file) => access::config_file(Role::Developer, &file),
        None => access::target(Role::Developer, "*", ""),
    }
}

/// A file's history, newest first. The history of a deleted file stays readable.
pub async fn config_file_history_list(
    store: &Store,
    request: ConfigHistoryListRequest,
) -> DeployerResult<ConfigHistoryPage> {
    let config_id = request.config_id;
    history_readable(store, config_id).await?;
    let window = paging::history(request.page.as_ref())?;
    let (count, rows) = store.config_history_page(config_id, Some(window)).await?;
    if count == 0 && store.config_file_by_id(config_id).await?.is_none() {
        return Err(file_not_found(config_id));
    }
    Ok(ConfigHistoryPage {
        count,
        rows: rows.into_iter().map(history).collect(),
    })
}
