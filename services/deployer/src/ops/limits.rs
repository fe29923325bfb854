//! What the `db_tars` columns the deployer writes can hold, from the MySQL migrations
//! (`crates/store/migrations/mysql`, copies of TarsFramework's db_tars.sql), and the
//! checks that refuse what they cannot. SQLite stores any value in any column while MySQL
//! refuses it (or, without strict mode, truncates it silently), so without these checks
//! one request would succeed on one backend and fail on the other; with them both answer
//! the same 400 naming the parameter and the column.
//!
//! MySQL counts `varchar(N)` in characters and `text` in bytes. These tables are `utf8`,
//! MySQL's 3-byte UTF-8, so no character outside the Basic Multilingual Plane (emoji)
//! fits in any of these columns (configuration contents, `utf8mb4`, are not listed here).

use crate::error::{DeployerError, DeployerResult};

/// How much a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// `varchar(N)`: N characters.
    Chars(usize),
    /// `text`: 65,535 bytes.
    Bytes(usize),
    /// `int(11)`: a signed 32-bit integer.
    Int {
        /// The smallest value stored.
        min: i64,
        /// The largest value stored.
        max: i64,
    },
}

/// One column and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The table, e.g. `t_server_conf`.
    pub table: &'static str,
    /// The column, e.g. `server_name`.
    pub name: &'static str,
    /// What fits in it.
    pub size: Size,
}

/// Bytes a MySQL `text` column holds.
pub const TEXT_BYTES: usize = 65_535;

impl Column {
    const fn varchar(table: &'static str, name: &'static str, chars: usize) -> Column {
        Column {
            table,
            name,
            size: Size::Chars(chars),
        }
    }

    const fn text(table: &'static str, name: &'static str) -> Column {
        Column {
            table,
            name,
            size: Size::Bytes(TEXT_BYTES),
        }
    }

    const fn int(table: &'static str, name: &'static str) -> Column {
        Column {
            table,
            name,
            size: Size::Int {
                min: i32::MIN as i64,
                max: i32::MAX as i64,
            },
        }
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.table, self.name)
    }
}

/// One module per table, one constant per column written; `ALL` lists them for the test
/// that compares them with the migrations.
macro_rules! table {
    ($module:ident = $table:literal { $($konst:ident: $column:literal $kind:ident $(($n:literal))?,)* }) => {
        #[doc = concat!("Columns of `", $table, "`.")]
        pub mod $module {
            use super::Column;
            $(
                #[doc = concat!("`", $table, ".", $column, "`")]
                pub const $konst: Column = Column::$kind($table, $column $(, $n)?);
            )*
            #[cfg(test)]
            pub(super) const ALL: &[Column] = &[$($konst),*];
        }
    };
}

table!(server_conf = "t_server_conf" {
    APPLICATION: "application" varchar(128),
    SERVER_NAME: "server_name" varchar(128),
    NODE_NAME: "node_name" varchar(50),
    BASE_PATH: "base_path" varchar(128),
    EXE_PATH: "exe_path" varchar(128),
    TEMPLATE_NAME: "template_name" varchar(128),
    LASTUSER: "lastuser" varchar(30),
    START_SCRIPT_PATH: "start_script_path" varchar(128),
    STOP_SCRIPT_PATH: "stop_script_path" varchar(128),
    MONITOR_SCRIPT_PATH: "monitor_script_path" varchar(128),
    SET_NAME: "set_name" varchar(16),
    SET_AREA: "set_area" varchar(16),
    SET_GROUP: "set_group" varchar(64),
    PROFILE: "profile" text,
    ASYNC_THREAD_NUM: "async_thread_num" int,
});

table!(adapter_conf = "t_adapter_conf" {
    APPLICATION: "application" varchar(50),
    SERVER_NAME: "server_name" varchar(128),
    NODE_NAME: "node_name" varchar(50),
    ADAPTER_NAME: "adapter_name" varchar(100),
    THREAD_NUM: "thread_num" int,
    ENDPOINT: "endpoint" varchar(128),
    MAX_CONNECTIONS: "max_connections" int,
    ALLOW_IP: "allow_ip" varchar(255),
    SERVANT: "servant" varchar(128),
    QUEUECAP: "queuecap" int,
    QUEUETIMEOUT: "queuetimeout" int,
    LASTUSER: "lastuser" varchar(30),
    PROTOCOL: "protocol" varchar(64),
    HANDLEGROUP: "handlegroup" varchar(64),
});

table!(profile_template = "t_profile_template" {
    TEMPLATE_NAME: "template_name" varchar(128),
    PARENTS_NAME: "parents_name" varchar(128),
    PROFILE: "profile" text,
    LASTUSER: "lastuser" varchar(30),
});

table!(config_files = "t_config_files" {
    SERVER_NAME: "server_name" varchar(128),
    SET_NAME: "set_name" varchar(16),
    SET_AREA: "set_area" varchar(16),
    SET_GROUP: "set_group" varchar(16),
    HOST: "host" varchar(50),
    FILENAME: "filename" varchar(128),
    LASTUSER: "lastuser" varchar(50),
});

table!(config_history = "t_config_history_files" {
    REASON: "reason" varchar(128),
    LASTUSER: "lastuser" varchar(50),
});

table!(config_references = "t_config_references" {
    CONFIG_ID: "config_id" int,
    REFERENCE_ID: "reference_id" int,
});

table!(server_patchs = "t_server_patchs" {
    SERVER: "server" varchar(50),
    UPDATE_TEXT: "update_text" varchar(255),
    MD5: "md5" varchar(40),
    UPLOAD_USER: "upload_user" varchar(30),
    LASTUSER: "lastuser" varchar(30),
});

/// The set columns of a server instance (name, area, group).
pub const SERVER_SET: [Column; 3] = [
    server_conf::SET_NAME,
    server_conf::SET_AREA,
    server_conf::SET_GROUP,
];

/// The set columns of a configuration file (name, area, group).
pub const CONFIG_SET: [Column; 3] = [
    config_files::SET_NAME,
    config_files::SET_AREA,
    config_files::SET_GROUP,
];

/// Why a column cannot hold a text value.
enum Misfit {
    /// Over the column's size, e.g. `128 characters`.
    TooLong(String),
    /// A character the column's 3-byte utf8 cannot store.
    OutsideBmp,
}

impl Misfit {
    fn of(value: &str, column: &Column) -> Option<Misfit> {
        let too_long = match column.size {
            Size::Chars(max) => (value.chars().count() > max).then(|| format!("{max} characters")),
            Size::Bytes(max) => (value.len() > max).then(|| format!("{max} bytes")),
            Size::Int { .. } => None,
        };
        too_long.map(Misfit::TooLong).or_else(|| {
            value
                .chars()
                .any(|c| c.len_utf8() > 3)
                .then_some(Misfit::OutsideBmp)
        })
    }

    /// The rest of a sentence whose subject is the value.
    fn predicate(&self, column: &Column) -> String {
        match self {
            Misfit::TooLong(limit) => format!("is longer than {limit} (the limit of {column})"),
            Misfit::OutsideBmp => format!(
                "has characters outside the Basic Multilingual Plane (such as emoji), which \
                 {column} cannot store (TARS's tables use 3-byte utf8)"
            ),
        }
    }
}

/// Refuses a text parameter that `column` cannot hold.
pub fn text(param: &str, value: &str, column: &Column) -> DeployerResult<()> {
    match Misfit::of(value, column) {
        Some(misfit) => Err(DeployerError::bad_param(param, misfit.predicate(column))),
        None => Ok(()),
    }
}

/// [`text`] for a parameter that may be absent.
pub fn optional_text(param: &str, value: Option<&str>, column: &Column) -> DeployerResult<()> {
    value.map_or(Ok(()), |value| text(param, value, column))
}

/// Refuses a value built from `params`, such as the servant name `App.Server.Obj` from
/// `application`, `server_name` and `obj_name`, that `column` cannot hold; `what` names
/// the value.
pub fn derived(params: &[&str], what: &str, value: &str, column: &Column) -> DeployerResult<()> {
    let Some(misfit) = Misfit::of(value, column) else {
        return Ok(());
    };
    let names: Vec<String> = params.iter().map(|p| format!("`{p}`")).collect();
    let (subject, verb, them) = match names.as_slice() {
        [one] => (format!("parameter {one}"), "makes", "it"),
        [init @ .., last] => (
            format!("parameters {} and {last}", init.join(", ")),
            "make",
            "them",
        ),
        [] => ("the request".to_string(), "makes", "it"),
    };
    Err(DeployerError::InvalidArgument(format!(
        "{subject} {verb} {what} `{}`, which {}; shorten {them}",
        abridged(value),
        misfit.predicate(column)
    )))
}

/// Refuses an integer parameter outside what `column` holds.
pub fn int(param: &str, value: i64, column: &Column) -> DeployerResult<()> {
    let Size::Int { min, max } = column.size else {
        return Ok(());
    };
    if value > max {
        Err(DeployerError::bad_param(
            param,
            format!("is {value}, more than {max} (the limit of {column})"),
        ))
    } else if value < min {
        Err(DeployerError::bad_param(
            param,
            format!("is {value}, less than {min} (the limit of {column})"),
        ))
    } else {
        Ok(())
    }
}

/// [`int`] for a parameter that may be absent.
pub fn optional_int(param: &str, value: Option<i64>, column: &Column) -> DeployerResult<()> {
    value.map_or(Ok(()), |value| int(param, value, column))
}

/// Refuses a caller whose user name (from the ticket) `column` cannot record: TARS
/// records who made each change, so the write would fail on MySQL.
pub fn user(user: &str, column: &Column) -> DeployerResult<()> {
    match Misfit::of(user, column) {
        Some(misfit) => Err(DeployerError::InvalidArgument(format!(
            "the user name `{}` of this ticket {}, where TARS records who made the change; \
             use a ticket for a user name that fits (tars-platform token create --user <name>)",
            abridged(user),
            misfit.predicate(column)
        ))),
        None => Ok(()),
    }
}

/// A value short enough to quote in a message.
fn abridged(value: &str) -> String {
    const SHOWN: usize = 160;
    if value.chars().count() <= SHOWN {
        value.to_string()
    } else {
        let head: String = value.chars().take(SHOWN).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATIONS: [&str; 3] = [
        include_str!("../../../../crates/store/migrations/mysql/0001_db_tars_core.sql"),
        include_str!("../../../../crates/store/migrations/mysql/0002_tasks.sql"),
        include_str!("../../../../crates/store/migrations/mysql/0003_config_files.sql"),
    ];

    /// The column's type as the migration declares it, e.g. `varchar(128)`.
    fn declared_type(column: &Column) -> String {
        let create = format!("CREATE TABLE IF NOT EXISTS `{}` (", column.table);
        let body = MIGRATIONS
            .iter()
            .find_map(|sql| sql.split_once(&create).map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("no migration creates {}", column.table));
        let body = body.split(") ENGINE").next().unwrap();
        let prefix = format!("`{}` ", column.name);
        let line = body
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{} has no column {}", column.table, column.name));
        line[prefix.len()..]
            .split([' ', ','])
            .next()
            .unwrap()
            .to_string()
    }

    #[test]
    fn limits_are_the_migrations_columns() {
        let tables = [
            server_conf::ALL,
            adapter_conf::ALL,
            profile_template::ALL,
            config_files::ALL,
            config_history::ALL,
            config_references::ALL,
            server_patchs::ALL,
        ];
        for column in tables.concat() {
            let expected = match column.size {
                Size::Chars(n) => format!("varchar({n})"),
                Size::Bytes(_) => "text".to_string(),
                Size::Int { .. } => "int(11)".to_string(),
            };
            assert_eq!(declared_type(&column), expected, "{column}");
        }
    }

    #[test]
    fn characters_not_bytes_and_bytes_for_text() {
        let column = server_conf::BASE_PATH;
        assert!(text("base_path", &"é".repeat(128), &column).is_ok());
        let err = text("base_path", &"é".repeat(129), &column).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter `base_path` is longer than 128 characters (the limit of \
             t_server_conf.base_path)"
        );
        assert!(text("base_path", "a😀", &column).is_err());
        let profile = server_conf::PROFILE;
        assert!(text("profile", &"x".repeat(TEXT_BYTES), &profile).is_ok());
        let wide = "é".repeat(TEXT_BYTES / 2 + 1);
        assert!(text("profile", &wide, &profile)
            .unwrap_err()
            .to_string()
            .contains("65535 bytes"));
    }

    #[test]
    fn ints_are_32_bit() {
        let column = server_conf::ASYNC_THREAD_NUM;
        assert!(int("async_thread_num", 2_147_483_647, &column).is_ok());
        assert!(int("async_thread_num", -2_147_483_648, &column).is_ok());
        let err = int("async_thread_num", 2_147_483_648, &column).unwrap_err();
        assert!(err.to_string().contains("more than 2147483647"), "{err}");
        assert!(int("async_thread_num", -2_147_483_649, &column).is_err());
    }

    #[test]
    fn users_must_fit_where_changes_are_recorded() {
        let column = server_conf::LASTUSER;
        assert!(user(&"u".repeat(30), &column).is_ok());
        let err = user(&"u".repeat(31), &column).unwrap_err().to_string();
        assert!(err.contains("t_server_conf.lastuser"), "{err}");
        assert!(err.contains("token create"), "{err}");
    }

    #[test]
    fn long_values_are_abridged_in_messages() {
        let value = "x".repeat(10_000);
        let err = derived(&["obj_name"], "the servant", &value, &adapter_conf::SERVANT);
        let message = err.unwrap_err().to_string();
        assert!(message.len() < 400, "{message}");
        assert!(
            message.starts_with("parameter `obj_name` makes"),
            "{message}"
        );
        assert!(message.contains("t_adapter_conf.servant"), "{message}");
        let err = derived(
            &["a", "b", "c"],
            "the servant",
            &value,
            &adapter_conf::SERVANT,
        );
        let message = err.unwrap_err().to_string();
        assert!(
            message.starts_with("parameters `a`, `b` and `c` make the servant"),
            "{message}"
        );
    }
}
