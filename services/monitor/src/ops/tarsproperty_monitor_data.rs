//! `/api/tarsproperty_monitor_data`: business properties (the sum of `value` per group,
//! whatever the policy: Sum, Avg, Max, Min, Count, Distr … are separate rows when grouped
//! by policy) on one day compared with another, shown with three decimals at most as
//! TarsWeb shows them (`--` for a group without data that day).

use tars_proto::monitor::{PropertyQuery, PropertyRow};

use super::comparison::{component, groups, rekey};
use super::numbers::trimmed;
use super::query_servers::{QueryServers, Table};
use super::request::{window, PROPERTY_GROUPS};
use crate::error::MonitorResult;

const INDEXS: [&str; 1] = ["value"];

fn shown(sums: Option<&[f64]>) -> String {
    match sums.and_then(|s| s.first()) {
        Some(v) if *v >= 0.0 => trimmed(*v, 3),
        _ => "--".into(),
    }
}

/// The rows of a property query.
pub async fn tarsproperty_monitor_data(
    servers: &QueryServers,
    q: PropertyQuery,
) -> MonitorResult<Vec<PropertyRow>> {
    let filters = vec![
        ("master_name", q.master_name),
        ("master_ip", q.master_ip),
        ("property_name", q.property_name),
        ("policy", q.policy),
    ];
    let w = window(
        &q.thedate,
        &q.predate,
        &q.startshowtime,
        &q.endshowtime,
        filters,
        &q.group_by,
        &PROPERTY_GROUPS,
    )?;
    let the_req = w.query(Table::Property.dataid(), &w.thedate, &INDEXS);
    let (the, pre) = if w.thedate == w.predate {
        let the = servers.ask(Table::Property, &the_req).await?;
        (the.clone(), the)
    } else {
        let pre_req = w.query(Table::Property.dataid(), &w.predate, &INDEXS);
        tokio::try_join!(
            servers.ask(Table::Property, &the_req),
            servers.ask(Table::Property, &pre_req)
        )?
    };
    let pre = rekey(pre, &w.groupby, &w.thedate);
    Ok(groups(&the, &pre, w.groupby.len())
        .into_iter()
        .map(|g| {
            let column = |name: &str| {
                component(&w.groupby, &g.key, name).map_or_else(|| w.shown(name), str::to_string)
            };
            PropertyRow {
                show_date: component(&w.groupby, &g.key, "f_date")
                    .unwrap_or(&w.thedate)
                    .to_string(),
                show_time: component(&w.groupby, &g.key, "f_tflag")
                    .unwrap_or_default()
                    .to_string(),
                master_name: column("master_name"),
                master_ip: column("master_ip"),
                property_name: column("property_name"),
                policy: column("policy"),
                the_value: shown(g.the),
                pre_value: shown(g.pre),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn values_as_tarsweb_shows_them() {
        assert_eq!(shown(Some(&[12.5])), "12.5");
        assert_eq!(shown(Some(&[3.0])), "3");
        assert_eq!(shown(Some(&[0.1234])), "0.123");
        assert_eq!(shown(None), "--");
        assert_eq!(shown(Some(&[-2.0])), "--");
    }
}
