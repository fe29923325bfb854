//! `/api/tarsstat_monitor_data`: call statistics between callers and callees on one day
//! compared with another, as TarsWeb computes them: total = succ + timeout + exce,
//! average time = total_time / total, fail rate = exce / total, timeout rate =
//! timeout / total, and the wave of the total (`--` when a day's total is negative, `0%`
//! when both are zero, `+∞%` when only the comparison day's is, else a signed percentage).

use tars_proto::monitor::{StatQuery, StatRow};

use super::comparison::{component, groups, rekey};
use super::numbers::{percent, to_fixed};
use super::query_servers::{QueryServers, Table};
use super::request::{window, STAT_GROUPS};
use crate::error::MonitorResult;

const INDEXS: [&str; 4] = ["succ_count", "timeout_count", "exce_count", "total_time"];

/// `[total, avg time, fail rate, timeout rate]` of one day's sums (zeros when none).
fn figures(sums: Option<&[f64]>) -> [f64; 4] {
    let Some(s) = sums else {
        return [0.0; 4];
    };
    let at = |i: usize| s.get(i).copied().unwrap_or(0.0);
    // TarsWeb reads the counts with parseInt.
    let total = at(0).trunc() + at(1).trunc() + at(2).trunc();
    let ratio = |x: f64| if total == 0.0 { 0.0 } else { x / total };
    [total, ratio(at(3)), ratio(at(2)), ratio(at(1))]
}

fn shown(f: [f64; 4]) -> [String; 4] {
    let or_dashes = |x: f64, text: String| if x < 0.0 { "--".to_string() } else { text };
    [
        or_dashes(f[0], to_fixed(f[0], 0)),
        or_dashes(f[1], to_fixed(f[1], 2)),
        or_dashes(f[2], percent(f[2])),
        or_dashes(f[3], percent(f[3])),
    ]
}

/// How the shown day's total moved against the comparison day's.
pub fn wave(the_total: f64, pre_total: f64) -> String {
    if the_total < 0.0 || pre_total < 0.0 {
        "--".into()
    } else if pre_total == 0.0 {
        if the_total == 0.0 {
            "0%".into()
        } else {
            "+∞%".into()
        }
    } else {
        percent((the_total - pre_total) / pre_total)
    }
}

/// The rows of a stat query.
pub async fn tarsstat_monitor_data(
    servers: &QueryServers,
    q: StatQuery,
) -> MonitorResult<Vec<StatRow>> {
    let filters = vec![
        ("master_name", q.master_name),
        ("slave_name", q.slave_name),
        ("interface_name", q.interface_name),
        ("master_ip", q.master_ip),
        ("slave_ip", q.slave_ip),
    ];
    let w = window(
        &q.thedate,
        &q.predate,
        &q.startshowtime,
        &q.endshowtime,
        filters,
        &q.group_by,
        &STAT_GROUPS,
    )?;
    let the_req = w.query(Table::Stat.dataid(), &w.thedate, &INDEXS);
    let (the, pre) = if w.thedate == w.predate {
        let the = servers.ask(Table::Stat, &the_req).await?;
        (the.clone(), the)
    } else {
        let pre_req = w.query(Table::Stat.dataid(), &w.predate, &INDEXS);
        tokio::try_join!(
            servers.ask(Table::Stat, &the_req),
            servers.ask(Table::Stat, &pre_req)
        )?
    };
    let pre = rekey(pre, &w.groupby, &w.thedate);
    let rows = groups(&the, &pre, w.groupby.len())
        .into_iter()
        .map(|g| {
            let (t, p) = (figures(g.the), figures(g.pre));
            let [the_total, the_avg, the_fail, the_timeout] = shown(t);
            let [pre_total, pre_avg, pre_fail, pre_timeout] = shown(p);
            let column = |name: &str| {
                component(&w.groupby, &g.key, name).map_or_else(|| w.shown(name), str::to_string)
            };
            StatRow {
                show_date: component(&w.groupby, &g.key, "f_date")
                    .unwrap_or(&w.thedate)
                    .to_string(),
                show_time: component(&w.groupby, &g.key, "f_tflag")
                    .unwrap_or_default()
                    .to_string(),
                master_name: column("master_name"),
                slave_name: column("slave_name"),
                interface_name: column("interface_name"),
                master_ip: column("master_ip"),
                slave_ip: column("slave_ip"),
                the_total_count: the_total,
                pre_total_count: pre_total,
                total_count_wave: wave(t[0], p[0]),
                the_avg_time: the_avg,
                pre_avg_time: pre_avg,
                the_fail_rate: the_fail,
                pre_fail_rate: pre_fail,
                the_timeout_rate: the_timeout,
                pre_timeout_rate: pre_timeout,
            }
        })
        .collect();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_of_a_day() {
        // succ 90, timeout 6, exce 4, total_time 250 → 100 calls, 2.50 ms, 4.00%, 6.00%.
        let f = figures(Some(&[90.0, 6.0, 4.0, 250.0]));
        assert_eq!(shown(f), ["100", "2.50", "4.00%", "6.00%"]);
        assert_eq!(shown(figures(None)), ["0", "0.00", "0.00%", "0.00%"]);
        let negative = figures(Some(&[-1.0, 0.0, 0.0, 5.0]));
        assert_eq!(shown(negative)[0], "--");
    }

    #[test]
    fn the_wave() {
        assert_eq!(wave(150.0, 100.0), "50.00%");
        assert_eq!(wave(75.0, 100.0), "-25.00%");
        assert_eq!(wave(0.0, 0.0), "0%");
        assert_eq!(wave(5.0, 0.0), "+∞%");
        assert_eq!(wave(0.0, 8.0), "-100.00%");
        assert_eq!(wave(-1.0, 8.0), "--");
        assert_eq!(wave(1.0, 3.0), "-66.67%");
    }
}
