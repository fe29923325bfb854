//! What a monitoring request asks the query servers, checked before anything is sent:
//! dates `YYYYMMDD`, times `HHMM` (0000–2360, as TarsWeb's window ends at 2360), grouping
//! only by the columns TARS's tables have. Filter values become condition values (LIKE
//! patterns), never SQL.

use chrono::{Duration, NaiveDate};
use tars_protocol::monitor_query::{Condition, MonitorQueryReq, Op};

use crate::error::{MonitorError, MonitorResult};

/// The call-statistics table's grouping columns.
pub const STAT_GROUPS: [&str; 7] = [
    "f_date",
    "f_tflag",
    "master_name",
    "slave_name",
    "interface_name",
    "master_ip",
    "slave_ip",
];

/// The property table's grouping columns.
pub const PROPERTY_GROUPS: [&str; 6] = [
    "f_date",
    "f_tflag",
    "master_name",
    "master_ip",
    "property_name",
    "policy",
];

/// A checked request: the two days, the window, the filters and the grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The shown day, `YYYYMMDD` (`thedate`; default today).
    pub thedate: String,
    /// The comparison day, `YYYYMMDD` (`predate`; default the day before the shown day).
    pub predate: String,
    /// The first time point, `HHMM` (`startshowtime`; default `0000`).
    pub start: String,
    /// The last time point, `HHMM`, inclusive (`endshowtime`; default `2360`); never before
    /// `start`.
    pub end: String,
    /// `(column, pattern)` for each filter given.
    pub filters: Vec<(&'static str, String)>,
    /// The columns grouped by, in key order.
    pub groupby: Vec<String>,
}

fn date(param: &str, value: &str, default: impl FnOnce() -> NaiveDate) -> MonitorResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(default().format("%Y%m%d").to_string());
    }
    if value.len() == 8 && NaiveDate::parse_from_str(value, "%Y%m%d").is_ok() {
        return Ok(value.to_string());
    }
    Err(MonitorError::bad_param(
        param,
        format!("{value:?} is not a date YYYYMMDD (e.g. 20261201)"),
    ))
}

fn time(param: &str, value: &str, default: &str) -> MonitorResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(default.to_string());
    }
    let valid = value.len() == 4
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "2360" || (&value[..2] <= "23" && &value[2..] <= "59"));
    if valid {
        Ok(value.to_string())
    } else {
        Err(MonitorError::bad_param(
            param,
            format!("{value:?} is not a time HHMM between 0000 and 2360"),
        ))
    }
}

/// Checks the common parameters; `filters` are `(column, value)` pairs of the request.
pub fn window(
    thedate: &str,
    predate: &str,
    start: &str,
    end: &str,
    filters: Vec<(&'static str, String)>,
    group_by: &str,
    groups: &[&str],
) -> MonitorResult<Window> {
    let today = || chrono::Local::now().date_naive();
    let thedate = date("thedate", thedate, today)?;
    let the_day = NaiveDate::parse_from_str(&thedate, "%Y%m%d").expect("checked");
    let predate = date("predate", predate, || the_day - Duration::days(1))?;
    let start = time("startshowtime", start, "0000")?;
    let end = time("endshowtime", end, "2360")?;
    if start > end {
        return Err(MonitorError::bad_param(
            "startshowtime",
            format!("{start} is after endshowtime {end}"),
        ));
    }
    let group_by = group_by.trim();
    // By time point when no grouping is asked for; otherwise by day and the column
    // (the day alone when that is the column).
    let groupby = match group_by {
        "" => vec!["f_tflag".to_string()],
        "f_date" => vec!["f_date".to_string()],
        g if groups.contains(&g) => vec!["f_date".to_string(), g.to_string()],
        other => {
            return Err(MonitorError::bad_param(
                "group_by",
                format!("{other:?} is not one of {}", groups.join(", ")),
            ))
        }
    };
    Ok(Window {
        thedate,
        predate,
        start,
        end,
        filters: filters
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect(),
        groupby,
    })
}

impl Window {
    /// The query for `date` of `dataid`, summing `indexs`.
    pub fn query(&self, dataid: &str, date: &str, indexs: &[&str]) -> MonitorQueryReq {
        MonitorQueryReq {
            uid: format!("{:016x}", rand::random::<u64>()),
            method: "query".into(),
            dataid: dataid.into(),
            date: date.into(),
            tflag1: self.start.clone(),
            tflag2: self.end.clone(),
            conditions: self
                .filters
                .iter()
                .map(|(field, val)| Condition {
                    field: (*field).to_string(),
                    op: Some(Op::Like),
                    val: val.clone(),
                })
                .collect(),
            indexs: indexs.iter().map(|i| i.to_string()).collect(),
            groupby: self.groupby.clone(),
        }
    }

    /// The filter given for `column`, or `%` (all), as TarsWeb shows it in rows.
    pub fn shown(&self, column: &str) -> String {
        self.filters
            .iter()
            .find(|(c, _)| *c == column)
            .map_or_else(|| "%".to_string(), |(_, v)| v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(thedate: &str, start: &str, end: &str, group_by: &str) -> MonitorResult<Window> {
        window(thedate, "", start, end, Vec::new(), group_by, &STAT_GROUPS)
    }

    #[test]
    fn defaults_and_grouping() {
        let w = check("20261201", "", "", "").unwrap();
        assert_eq!(
            (w.predate.as_str(), w.start.as_str(), w.end.as_str()),
            ("20261130", "0000", "2360")
        );
        assert_eq!(w.groupby, ["f_tflag"]);
        assert_eq!(
            check("20261201", "", "", "master_name").unwrap().groupby,
            ["f_date", "master_name"]
        );
        assert_eq!(
            check("20261201", "", "", "f_date").unwrap().groupby,
            ["f_date"]
        );
        assert_eq!(check("20260301", "", "", "").unwrap().predate, "20260228");
    }

    #[test]
    fn refusals_name_the_parameter() {
        let msg = |r: MonitorResult<Window>| r.unwrap_err().to_string();
        assert!(msg(check("2026-12-01", "", "", "")).contains("`thedate`"));
        assert!(msg(check("20261301", "", "", "")).contains("`thedate`"));
        assert!(msg(check("20261201", "0960", "", "")).contains("`startshowtime`"));
        assert!(msg(check("20261201", "", "2400", "")).contains("`endshowtime`"));
        assert!(msg(check("20261201", "1200", "1100", "")).contains("after"));
        assert!(msg(check("20261201", "", "", "policy")).contains("`group_by`"));
        assert!(msg(check("20261201", "", "", "1; DROP TABLE x")).contains("`group_by`"));
        assert!(check("20261201", "2300", "2360", "").is_ok());
    }
}
