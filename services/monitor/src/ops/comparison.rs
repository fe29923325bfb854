//! Putting the two days side by side: the comparison day's groups are re-keyed onto the
//! shown day (its date component replaced), so a group present on either day gives one
//! row with both days' figures. TarsWeb's page copy of this merge re-keyed without moving
//! the values, which zeroed every comparison figure of date-grouped rows; here the values
//! move with their key.

use std::collections::{BTreeMap, BTreeSet};

/// Sums by `k1,k2,…` group key, as a query server answers them.
pub type Sums = BTreeMap<String, Vec<f64>>;

/// One group: its key's components and the two days' sums (`None`: no data that day).
pub struct Group<'a> {
    /// The group's values, one per grouping column in order (the date first when grouped by
    /// date, the time point `HHMM` when not grouped).
    pub key: Vec<&'a str>,
    /// The shown day's sums, in the order of the query's `indexs`.
    pub the: Option<&'a [f64]>,
    /// The comparison day's sums (re-keyed onto the shown day), in the same order.
    pub pre: Option<&'a [f64]>,
}

/// Re-keys the comparison day's sums onto `thedate` when the first grouping column is
/// the date.
pub fn rekey(pre: Sums, groupby: &[String], thedate: &str) -> Sums {
    if groupby.first().map(String::as_str) != Some("f_date") {
        return pre;
    }
    pre.into_iter()
        .map(|(key, values)| {
            let rest = key.split_once(',').map(|(_, rest)| rest);
            let key = match rest {
                Some(rest) => format!("{thedate},{rest}"),
                None => thedate.to_string(),
            };
            (key, values)
        })
        .collect()
}

/// Every group of either day, in key order (the grouping columns in order, so rows come
/// sorted by group and then by time).
pub fn groups<'a>(the: &'a Sums, pre: &'a Sums, columns: usize) -> Vec<Group<'a>> {
    let keys: BTreeSet<&'a String> = the.keys().chain(pre.keys()).collect();
    let mut groups: Vec<Group<'a>> = keys
        .into_iter()
        .map(|key| Group {
            key: key.splitn(columns.max(1), ',').collect(),
            the: the.get(key).map(Vec::as_slice),
            pre: pre.get(key).map(Vec::as_slice),
        })
        .collect();
    groups.sort_by(|a, b| a.key.cmp(&b.key));
    groups
}

/// The value of `column` in a group's key, if the grouping has it.
pub fn component<'a>(groupby: &[String], key: &[&'a str], column: &str) -> Option<&'a str> {
    groupby
        .iter()
        .position(|g| g == column)
        .and_then(|i| key.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(entries: &[(&str, f64)]) -> Sums {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), vec![*v]))
            .collect()
    }

    #[test]
    fn comparison_rows_keep_their_values() {
        let groupby = vec!["f_date".to_string(), "master_name".to_string()];
        let the = sums(&[("20261201,A", 1.0)]);
        let pre = rekey(
            sums(&[("20261130,A", 2.0), ("20261130,B", 3.0)]),
            &groupby,
            "20261201",
        );
        let rows = groups(&the, &pre, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, ["20261201", "A"]);
        assert_eq!(
            (rows[0].the, rows[0].pre),
            (Some(&[1.0][..]), Some(&[2.0][..]))
        );
        assert_eq!(rows[1].key, ["20261201", "B"]);
        assert_eq!((rows[1].the, rows[1].pre), (None, Some(&[3.0][..])));
        assert_eq!(component(&groupby, &rows[1].key, "master_name"), Some("B"));
        assert_eq!(component(&groupby, &rows[1].key, "f_tflag"), None);
    }

    #[test]
    fn time_points_are_not_rekeyed() {
        let groupby = vec!["f_tflag".to_string()];
        let pre = rekey(sums(&[("0905", 1.0)]), &groupby, "20261201");
        assert!(pre.contains_key("0905"));
    }
}
