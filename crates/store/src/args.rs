//! Values bound to dynamically built SQL (filters whose columns depend on the request).

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// A WHERE clause built from optional filters, with its bound values in order.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    pub(crate) args: Vec<Arg>,
}

impl Filter {
    /// Adds `column = ?`; `column` must be a trusted identifier, never user input.
    pub(crate) fn eq(&mut self, column: &'static str, value: impl Into<String>) -> &mut Self {
        self.clauses.push(format!("{column} = ?"));
        self.args.push(Arg::Text(value.into()));
        self
    }

    /// Adds `column = ?` for an integer column.
    pub(crate) fn eq_int(&mut self, column: &'static str, value: i64) -> &mut Self {
        self.clauses.push(format!("{column} = ?"));
        self.args.push(Arg::Int(value));
        self
    }

    /// Adds `column LIKE ?` with the value wrapped in `%…%` and its wildcards escaped.
    pub(crate) fn contains(&mut self, column: &'static str, value: &str) -> &mut Self {
        // `!` rather than a backslash: MySQL treats a backslash in a literal as an escape
        // itself, SQLite does not, so only a neutral character works on both.
        let escaped = value
            .replace('!', "!!")
            .replace('%', "!%")
            .replace('_', "!_");
        self.clauses.push(format!("{column} LIKE ? ESCAPE '!'"));
        self.args.push(Arg::Text(format!("%{escaped}%")));
        self
    }

    /// Keeps only rows of these applications and these (application, server) pairs, as
    /// the trusted columns `app` and `server` name them; nothing when both are empty.
    pub(crate) fn within(
        &mut self,
        within: &crate::Within,
        app: &'static str,
        server: &'static str,
    ) -> &mut Self {
        let mut parts = Vec::new();
        if !within.apps.is_empty() {
            parts.push(format!(
                "{app} IN ({})",
                vec!["?"; within.apps.len()].join(", ")
            ));
            self.args
                .extend(within.apps.iter().map(|a| Arg::Text(a.clone())));
        }
        for (app_name, server_name) in &within.servers {
            parts.push(format!("({app} = ? AND {server} = ?)"));
            self.args.push(Arg::Text(app_name.clone()));
            self.args.push(Arg::Text(server_name.clone()));
        }
        if parts.is_empty() {
            self.clauses.push("1 = 0".to_string());
        } else {
            self.clauses.push(format!("({})", parts.join(" OR ")));
        }
        self
    }

    /// Adds a clause with no bound value.
    pub(crate) fn raw(&mut self, clause: &'static str) -> &mut Self {
        self.clauses.push(clause.to_string());
        self
    }

    /// ` WHERE a AND b` or the empty string.
    pub(crate) fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// Binds `args` in order to a query of any backend.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args.iter() {
            query = match arg {
                $crate::args::Arg::Text(v) => query.bind(v.clone()),
                $crate::args::Arg::Int(v) => query.bind(*v),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// The `SET a = ?, b = ?` part of an UPDATE built from optional changes.
#[derive(Debug, Default)]
pub(crate) struct Assignments {
    columns: Vec<&'static str>,
    pub(crate) args: Vec<Arg>,
}

impl Assignments {
    /// Sets a text column when `value` is present.
    pub(crate) fn text(&mut self, column: &'static str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.columns.push(column);
            self.args.push(Arg::Text(v.to_string()));
        }
        self
    }

    /// Sets an integer column when `value` is present.
    pub(crate) fn int(&mut self, column: &'static str, value: Option<i64>) -> &mut Self {
        if let Some(v) = value {
            self.columns.push(column);
            self.args.push(Arg::Int(v));
        }
        self
    }

    /// `a = ?, b = ?, ` (with a trailing separator, so a fixed column can follow).
    pub(crate) fn sql_prefix(&self) -> String {
        self.columns.iter().map(|c| format!("{c} = ?, ")).collect()
    }
}
