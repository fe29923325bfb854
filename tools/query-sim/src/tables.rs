//! The fixture's rows and the query a query server runs over them, as QueryStatServer's
//! QueryImp / DbProxy do: one table per hour (`<dataid>_<YYYYMMDDHH>`), visited from the
//! hour of `tflag1` in steps of an hour while the time point is not after `tflag2` (so a
//! window is widened to whole hours, and an end earlier in its hour than the start's
//! minutes drops that hour, as the real servers do); `where` from the conditions (LIKE
//! with `%` and `_`, compared without case, as MySQL's utf8 collation does); `sum` of the
//! index columns grouped by the group columns, the date shown as `YYYYMMDD`.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;
use tars_protocol::monitor_query::{Condition, MonitorQueryReq, MonitorQueryRsp, Op};

/// Rows by table (`tars_stat`, `tars_property`) and date (`YYYYMMDD`); each row has
/// `f_tflag` (`HHMM`) and the table's columns.
#[derive(Debug, Default, Deserialize)]
pub struct Fixture(pub HashMap<String, HashMap<String, Vec<BTreeMap<String, Value>>>>);

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// SQL LIKE without case: `%` any run, `_` one character, `\` escapes.
pub fn like(value: &str, pattern: &str) -> bool {
    fn go(v: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('%', rest)) => (0..=v.len()).any(|i| go(&v[i..], rest)),
            Some(('_', rest)) => !v.is_empty() && go(&v[1..], rest),
            Some(('\\', rest)) if !rest.is_empty() => {
                !v.is_empty() && v[0].eq_ignore_ascii_case(&rest[0]) && go(&v[1..], &rest[1..])
            }
            Some((c, rest)) => !v.is_empty() && v[0].eq_ignore_ascii_case(c) && go(&v[1..], rest),
        }
    }
    let v: Vec<char> = value.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    go(&v, &p)
}

fn matches(row: &BTreeMap<String, Value>, c: &Condition) -> Result<bool, String> {
    let Some(value) = row.get(&c.field) else {
        return Err(format!("Unknown column '{}' in 'where clause'", c.field));
    };
    let Some(op) = c.op else {
        // QueryImp skips conditions with an operator it does not know.
        return Ok(true);
    };
    if let (Some(x), Ok(y)) = (value.as_f64(), c.val.parse::<f64>()) {
        return Ok(match op {
            Op::Eq => x == y,
            Op::Gt => x > y,
            Op::Gte => x >= y,
            Op::Lt => x < y,
            Op::Lte => x <= y,
            Op::Like => like(&text(value), &c.val),
        });
    }
    let (x, y) = (text(value).to_lowercase(), c.val.to_lowercase());
    Ok(match op {
        Op::Eq => x == y,
        Op::Gt => x > y,
        Op::Gte => x >= y,
        Op::Lt => x < y,
        Op::Lte => x <= y,
        Op::Like => like(&text(value), &c.val),
    })
}

/// The hours whose tables the query visits.
fn hours(tflag1: &str, tflag2: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut h, m) = (
        tflag1[..2].parse::<u32>().unwrap_or(0),
        tflag1[2..].parse::<u32>().unwrap_or(0),
    );
    loop {
        let tflag = format!("{h:02}{m:02}");
        if tflag.as_str() > tflag2 || h >= 24 {
            return out;
        }
        out.push(format!("{h:02}"));
        h += 1;
    }
}

fn failure(msg: impl Into<String>) -> MonitorQueryRsp {
    MonitorQueryRsp {
        ret: -1,
        msg: msg.into(),
        ..MonitorQueryRsp::default()
    }
}

/// Answers `req` from `fixture`.
pub fn query(fixture: &Fixture, req: &MonitorQueryReq) -> MonitorQueryRsp {
    let valid = req.date.len() == 8
        && req.tflag1.len() == 4
        && req.tflag2.len() == 4
        && req.tflag1.bytes().all(|b| b.is_ascii_digit())
        && req.tflag2.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return failure(format!("iDb:0, wrong tflag:{}-{}", req.tflag1, req.tflag2));
    }
    let Some(table) = fixture.0.get(&req.dataid) else {
        return failure(format!("Unknown database '{}'", req.dataid));
    };
    let rows = table.get(&req.date).map(Vec::as_slice).unwrap_or_default();
    let hours = hours(&req.tflag1, &req.tflag2);
    let mut result: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut last_time = String::new();
    for row in rows {
        let tflag = row.get("f_tflag").map(text).unwrap_or_default();
        if tflag.len() != 4 || !hours.iter().any(|h| tflag.starts_with(h.as_str())) {
            continue;
        }
        let mut keep = true;
        for c in &req.conditions {
            match matches(row, c) {
                Ok(m) => keep &= m,
                Err(msg) => return failure(msg),
            }
        }
        if !keep {
            continue;
        }
        last_time = last_time.max(tflag.clone());
        let mut key = Vec::new();
        for g in &req.groupby {
            match g.as_str() {
                "f_date" => key.push(req.date.clone()),
                other => match row.get(other) {
                    Some(v) => key.push(text(v)),
                    None => return failure(format!("Unknown column '{other}' in 'field list'")),
                },
            }
        }
        let mut sums = Vec::new();
        for index in &req.indexs {
            match row.get(index).and_then(Value::as_f64) {
                Some(v) => sums.push(v),
                None => return failure(format!("Unknown column '{index}' in 'field list'")),
            }
        }
        let entry = result
            .entry(key.join(","))
            .or_insert_with(|| vec![0.0; sums.len()]);
        for (total, v) in entry.iter_mut().zip(sums) {
            *total += v;
        }
    }
    MonitorQueryRsp {
        ret: 0,
        msg: String::new(),
        last_time,
        active_db: 1,
        total_db: 1,
        ret_threads: vec![0],
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("Shop.Cart", "shop.%"));
        assert!(like("Shop.Cart", "Shop._art"));
        assert!(!like("Shop.Cart", "Shop."));
        assert!(like("a%b", "a\\%b"));
        assert!(!like("axb", "a\\%b"));
        assert!(!like("O'Brien", "O'Brien' OR '1'='1"));
    }

    #[test]
    fn hourly_tables_as_the_query_servers_visit_them() {
        assert_eq!(hours("0000", "2360").len(), 24);
        assert_eq!(hours("0930", "1130"), ["09", "10", "11"]);
        assert_eq!(hours("0930", "1115"), ["09", "10"], "11:30 is after 11:15");
        assert_eq!(hours("2300", "2360"), ["23"]);
    }
}
