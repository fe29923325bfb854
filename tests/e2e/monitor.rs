//! Monitoring (监控) over HTTP against the query-server double (`query-sim`, fixture
//! `tests/e2e/data/monitor.json`). Every expected row below is worked out by hand from the
//! fixture; the comments show the sums.

use serde_json::{json, Value};

use crate::common::query_sim::QuerySim;
use crate::common::{Backend, Platform, PlatformOptions};

const THE: &str = "20261201";
const PRE: &str = "20261130";

async fn platform(backend: Backend, sim: &QuerySim, extra: &[(&str, &str)]) -> Platform {
    let mut env = vec![
        ("TARS_STAT_QUERY_OBJ", sim.stat.as_str()),
        ("TARS_PROPERTY_QUERY_OBJ", sim.property.as_str()),
    ];
    env.extend(extra);
    Platform::start_with(backend, PlatformOptions::with_env(&env)).await
}

async fn stat(p: &Platform, query: &[(&str, &str)]) -> Value {
    p.api
        .get("/api/tarsstat_monitor_data", query)
        .await
        .ok()
        .clone()
}

async fn property(p: &Platform, query: &[(&str, &str)]) -> Value {
    p.api
        .get("/api/tarsproperty_monitor_data", query)
        .await
        .ok()
        .clone()
}

#[allow(clippy::too_many_arguments)]
fn stat_row(
    date: &str,
    time: &str,
    names: [&str; 5],
    the: [&str; 4],
    pre: [&str; 4],
    wave: &str,
) -> Value {
    json!({
        "show_date": date, "show_time": time,
        "master_name": names[0], "slave_name": names[1], "interface_name": names[2],
        "master_ip": names[3], "slave_ip": names[4],
        "the_total_count": the[0], "pre_total_count": pre[0], "total_count_wave": wave,
        "the_avg_time": the[1], "pre_avg_time": pre[1],
        "the_fail_rate": the[2], "pre_fail_rate": pre[2],
        "the_timeout_rate": the[3], "pre_timeout_rate": pre[3],
    })
}

const ALL: [&str; 5] = ["%", "%", "%", "%", "%"];
const NONE: [&str; 4] = ["0", "0.00", "0.00%", "0.00%"];

async fn stat_rows_by_time_point_with_every_wave(backend: Backend) {
    let sim = QuerySim::start(&[]);
    let p = platform(backend, &sim, &[]).await;
    let rows = stat(&p, &[("thedate", THE), ("predate", PRE)]).await;
    // 0905: 90+6+4 + 20 = 120 calls, (250+10)/120 = 2.17 ms, 4/120, 6/120; before: 60, 2.00.
    // 0910: 45+3+2 = 50 against a zero total; 0915: zero on both days; 1005: 8 against 8;
    // 1100: only the day before (5); 1200: only the shown day (10).
    let expected = json!([
        stat_row(
            THE,
            "0905",
            ALL,
            ["120", "2.17", "3.33%", "5.00%"],
            ["60", "2.00", "0.00%", "0.00%"],
            "100.00%"
        ),
        stat_row(
            THE,
            "0910",
            ALL,
            ["50", "2.50", "4.00%", "6.00%"],
            NONE,
            "+∞%"
        ),
        stat_row(THE, "0915", ALL, NONE, NONE, "0%"),
        stat_row(
            THE,
            "1005",
            ALL,
            ["8", "2.00", "12.50%", "0.00%"],
            ["8", "3.00", "0.00%", "0.00%"],
            "0.00%"
        ),
        stat_row(
            THE,
            "1100",
            ALL,
            NONE,
            ["5", "1.00", "0.00%", "0.00%"],
            "-100.00%"
        ),
        stat_row(
            THE,
            "1200",
            ALL,
            ["10", "0.50", "0.00%", "0.00%"],
            NONE,
            "+∞%"
        ),
    ]);
    assert_eq!(rows, expected);
    // Both days were asked for, by time point, summing the four counters.
    let asked = sim.queries();
    let mut dates: Vec<&str> = asked.iter().map(|q| q["date"].as_str().unwrap()).collect();
    dates.sort();
    assert_eq!(dates, [PRE, THE]);
    assert_eq!(asked[0]["groupby"], json!(["f_tflag"]));
    assert_eq!(
        asked[0]["indexs"],
        json!(["succ_count", "timeout_count", "exce_count", "total_time"])
    );
    assert_eq!(
        (asked[0]["tflag1"].as_str(), asked[0]["tflag2"].as_str()),
        (Some("0000"), Some("2360"))
    );
    // The other prefix answers the same.
    let other = p
        .api
        .get(
            "/server/api/tarsstat_monitor_data",
            &[("thedate", THE), ("predate", PRE)],
        )
        .await;
    assert_eq!(other.ok(), &expected);
}

async fn stat_rows_by_caller_compare_real_figures(backend: Backend) {
    let sim = QuerySim::start(&[]);
    let p = platform(backend, &sim, &[]).await;
    let rows = stat(
        &p,
        &[
            ("thedate", THE),
            ("predate", PRE),
            ("group_by", "master_name"),
        ],
    )
    .await;
    // Shop.Cart: 165+9+6 = 180 calls, 390/180 = 2.17 ms; the day before 60 calls in 120 ms
    // (TarsWeb's page shows 0 for every pre_* of such rows). Shop.Legacy: only the day
    // before. Shop.Web: 8 calls both days, 16 against 24 ms.
    let name = |n: &'static str| [n, "%", "%", "%", "%"];
    assert_eq!(
        rows,
        json!([
            stat_row(
                THE,
                "",
                name("Shop.Cart"),
                ["180", "2.17", "3.33%", "5.00%"],
                ["60", "2.00", "0.00%", "0.00%"],
                "200.00%"
            ),
            stat_row(
                THE,
                "",
                name("Shop.Legacy"),
                NONE,
                ["5", "1.00", "0.00%", "0.00%"],
                "-100.00%"
            ),
            stat_row(
                THE,
                "",
                name("Shop.Web"),
                ["8", "2.00", "12.50%", "0.00%"],
                ["8", "3.00", "0.00%", "0.00%"],
                "0.00%"
            ),
        ])
    );
    assert_eq!(
        sim.queries()[0]["groupby"],
        json!(["f_date", "master_name"])
    );

    // By date alone: one row of each day's totals. 172+9+7 = 188 calls in 406 ms;
    // the day before 73 calls in 149 ms.
    let by_date = stat(
        &p,
        &[("thedate", THE), ("predate", PRE), ("group_by", "f_date")],
    )
    .await;
    assert_eq!(
        by_date,
        json!([stat_row(
            THE,
            "",
            ALL,
            ["188", "2.16", "3.72%", "4.79%"],
            ["73", "2.04", "0.00%", "0.00%"],
            "157.53%"
        )])
    );
    // By date and time point: the comparison day's figures move onto the shown date.
    let by_time = stat(
        &p,
        &[("thedate", THE), ("predate", PRE), ("group_by", "f_tflag")],
    )
    .await;
    assert_eq!(
        by_time[0],
        stat_row(
            THE,
            "0905",
            ALL,
            ["120", "2.17", "3.33%", "5.00%"],
            ["60", "2.00", "0.00%", "0.00%"],
            "100.00%"
        )
    );
    assert_eq!(by_time[4]["pre_total_count"], "5");
    assert_eq!(by_time.as_array().unwrap().len(), 6);

    // Each other grouping column groups.
    for (column, first) in [
        ("slave_name", "Shop.Cart"),
        ("interface_name", "add"),
        ("master_ip", "10.0.0.1"),
        ("slave_ip", "10.0.0.1"),
    ] {
        let rows = stat(
            &p,
            &[("thedate", THE), ("predate", PRE), ("group_by", column)],
        )
        .await;
        assert_eq!(rows[0][column], first, "{column}: {rows}");
    }
}

async fn stat_filters_and_window(backend: Backend) {
    let sim = QuerySim::start(&[]);
    let p = platform(backend, &sim, &[]).await;
    // Callers like Shop.C%, callee Shop.Stock, 09:00–11:00: the 12:00 row is out, and so
    // is the Shop.Price call. 0905: 100 calls against 60 (+66.67%).
    let rows = stat(
        &p,
        &[
            ("thedate", THE),
            ("predate", PRE),
            ("master_name", "Shop.C%"),
            ("slave_name", "Shop.Stock"),
            ("startshowtime", "0900"),
            ("endshowtime", "1100"),
        ],
    )
    .await;
    let names = ["Shop.C%", "Shop.Stock", "%", "%", "%"];
    assert_eq!(
        rows,
        json!([
            stat_row(
                THE,
                "0905",
                names,
                ["100", "2.50", "4.00%", "6.00%"],
                ["60", "2.00", "0.00%", "0.00%"],
                "66.67%"
            ),
            stat_row(
                THE,
                "0910",
                names,
                ["50", "2.50", "4.00%", "6.00%"],
                NONE,
                "+∞%"
            ),
            stat_row(THE, "0915", names, NONE, NONE, "0%"),
        ])
    );
    let conditions = &sim.queries()[0]["conditions"];
    assert_eq!(
        conditions,
        &json!([
            {"field": "master_name", "op": 5, "val": "Shop.C%"},
            {"field": "slave_name", "op": 5, "val": "Shop.Stock"},
        ])
    );
    // Each remaining filter narrows.
    for (param, value, total) in [
        ("interface_name", "add", "8"),
        ("master_ip", "10.0.0.9", "8"),
        ("slave_ip", "10.0.0.3", "20"),
    ] {
        let rows = stat(
            &p,
            &[
                ("thedate", THE),
                ("predate", PRE),
                (param, value),
                ("group_by", "f_date"),
            ],
        )
        .await;
        assert_eq!(rows[0]["the_total_count"], total, "{param}: {rows}");
        assert_eq!(rows[0][param], value);
    }
    // The window 10:00–11:00 reads the 10 and 11 o'clock tables only.
    let rows = stat(
        &p,
        &[
            ("thedate", THE),
            ("predate", PRE),
            ("startshowtime", "1000"),
            ("endshowtime", "1100"),
        ],
    )
    .await;
    let times: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["show_time"].as_str().unwrap())
        .collect();
    assert_eq!(times, ["1005", "1100"]);
    // Quotes and SQL in a filter are data: nothing matches, and the value went as sent.
    let sneaky = "x' OR '1'='1";
    let rows = stat(
        &p,
        &[("thedate", THE), ("predate", THE), ("master_name", sneaky)],
    )
    .await;
    assert_eq!(rows, json!([]));
    assert!(sim
        .queries()
        .iter()
        .any(|q| q["conditions"][0]["val"] == sneaky));
}

async fn stat_comparison_of_equal_dates_and_negative_totals(backend: Backend) {
    let sim = QuerySim::start(&[]);
    let p = platform(backend, &sim, &[]).await;
    let before = sim.queries().len();
    let rows = stat(
        &p,
        &[("thedate", THE), ("predate", THE), ("group_by", "f_date")],
    )
    .await;
    assert_eq!(rows[0]["total_count_wave"], "0.00%");
    assert_eq!(rows[0]["pre_total_count"], "188");
    assert_eq!(
        sim.queries().len() - before,
        1,
        "one query when the dates are equal"
    );
    // A negative total (a counter the server reports as -1) shows as `--`, and so does
    // its wave.
    let rows = stat(
        &p,
        &[
            ("thedate", "20261202"),
            ("predate", THE),
            ("group_by", "master_name"),
        ],
    )
    .await;
    assert_eq!(rows[0]["master_name"], "Shop.Cart");
    assert_eq!(rows[0]["the_total_count"], "--");
    assert_eq!(rows[0]["the_avg_time"], "--");
    assert_eq!(rows[0]["total_count_wave"], "--");
    assert_eq!(rows[0]["pre_total_count"], "180");
}

fn property_row(date: &str, time: &str, names: [&str; 4], the: &str, pre: &str) -> Value {
    json!({
        "show_date": date, "show_time": time, "master_name": names[0], "master_ip": names[1],
        "property_name": names[2], "policy": names[3], "the_value": the, "pre_value": pre,
    })
}

async fn property_values_per_policy(backend: Backend) {
    let sim = QuerySim::start(&[]);
    let p = platform(backend, &sim, &[]).await;
    // queue_size by policy: Avg 12.5 + 7.25 against 10; Max 30 against 20.
    let rows = property(
        &p,
        &[
            ("thedate", THE),
            ("predate", PRE),
            ("property_name", "queue_size"),
            ("group_by", "policy"),
        ],
    )
    .await;
    assert_eq!(
        rows,
        json!([
            property_row(THE, "", ["%", "%", "queue_size", "Avg"], "19.75", "10"),
            property_row(THE, "", ["%", "%", "queue_size", "Max"], "30", "20"),
        ])
    );
    assert_eq!(sim.queries()[0]["indexs"], json!(["value"]));
    // By time point: 0905 is 12.5 + 30 + 1000.125; 0910 is 7.25 + 3; the day before 30 and
    // 0.0004 (three decimals at most: 0).
    let rows = property(&p, &[("thedate", THE), ("predate", PRE)]).await;
    assert_eq!(
        rows,
        json!([
            property_row(THE, "0905", ["%", "%", "%", "%"], "1042.625", "30"),
            property_row(THE, "0910", ["%", "%", "%", "%"], "10.25", "0"),
        ])
    );
    // A group without data on the comparison day shows `--`.
    let rows = property(
        &p,
        &[
            ("thedate", THE),
            ("predate", PRE),
            ("policy", "Sum"),
            ("group_by", "property_name"),
        ],
    )
    .await;
    assert_eq!(
        rows,
        json!([property_row(
            THE,
            "",
            ["%", "%", "reqs", "Sum"],
            "1000.125",
            "--"
        )])
    );
    // Filters by caller and address; grouping by caller and address.
    let rows = property(
        &p,
        &[
            ("thedate", THE),
            ("predate", PRE),
            ("master_name", "Shop.Web"),
            ("master_ip", "10.0.0.9"),
        ],
    )
    .await;
    assert_eq!(
        rows,
        json!([property_row(
            THE,
            "0910",
            ["Shop.Web", "10.0.0.9", "%", "%"],
            "3",
            "0"
        )])
    );
    for (column, first) in [
        ("master_name", "Shop.Cart"),
        ("master_ip", "10.0.0.1"),
        ("f_tflag", "20261201"),
    ] {
        let rows = property(
            &p,
            &[("thedate", THE), ("predate", PRE), ("group_by", column)],
        )
        .await;
        let shown = if column == "f_tflag" {
            "show_date"
        } else {
            column
        };
        assert_eq!(rows[0][shown], first, "{column}: {rows}");
    }
}

async fn bad_parameters_are_refused_before_any_query(backend: Backend) {
    let sim = QuerySim::start(&[]);
    let p = platform(backend, &sim, &[]).await;
    for (path, query, needle) in [
        (
            "/api/tarsstat_monitor_data",
            ("thedate", "2026-12-01"),
            "`thedate`",
        ),
        (
            "/api/tarsstat_monitor_data",
            ("predate", "20261332"),
            "`predate`",
        ),
        (
            "/api/tarsstat_monitor_data",
            ("startshowtime", "2500"),
            "`startshowtime`",
        ),
        (
            "/api/tarsstat_monitor_data",
            ("endshowtime", "12"),
            "`endshowtime`",
        ),
        (
            "/api/tarsstat_monitor_data",
            ("group_by", "policy"),
            "`group_by`",
        ),
        (
            "/api/tarsproperty_monitor_data",
            ("group_by", "slave_name"),
            "`group_by`",
        ),
        (
            "/api/tarsproperty_monitor_data",
            ("group_by", "value; DROP TABLE t"),
            "`group_by`",
        ),
    ] {
        p.api.get(path, &[query]).await.err(400, needle);
    }
    assert!(sim.queries().is_empty(), "nothing was asked");
}

async fn query_server_failures_are_503_naming_the_servant(backend: Backend) {
    // Failing: ret -1 with the server's message.
    let failing = QuerySim::start(&["--fail", "iDb:0|exception:MySQL server has gone away"]);
    let p = platform(backend, &failing, &[]).await;
    let msg = p
        .api
        .get("/api/tarsstat_monitor_data", &[("thedate", THE)])
        .await
        .err(503, "tars.tarsquerystat.QueryObj");
    assert!(msg.contains("gone away"), "{msg}");
    p.api
        .get("/api/tarsproperty_monitor_data", &[("thedate", THE)])
        .await
        .err(503, "tars.tarsqueryproperty.QueryObj");
    drop(p);

    // Slow: past TARS_MONITOR_TIMEOUT_MS.
    let slow = QuerySim::start(&["--delay-ms", "3000"]);
    let p = platform(backend, &slow, &[("TARS_MONITOR_TIMEOUT_MS", "300")]).await;
    p.api
        .get("/api/tarsstat_monitor_data", &[("thedate", THE)])
        .await
        .err(503, "within 300 ms (TARS_MONITOR_TIMEOUT_MS)");
    drop(p);

    // Unreachable: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = format!("tars.tarsquerystat.QueryObj@tcp -h 127.0.0.1 -p {port}");
    let p = Platform::start_with(
        backend,
        PlatformOptions::with_env(&[("TARS_STAT_QUERY_OBJ", nowhere.as_str())]),
    )
    .await;
    p.api
        .get("/api/tarsstat_monitor_data", &[("thedate", THE)])
        .await
        .err(503, "cannot be queried");
    // Not configured and not registered: the variable to set is named.
    p.api
        .get("/api/tarsproperty_monitor_data", &[("thedate", THE)])
        .await
        .err(503, "TARS_PROPERTY_QUERY_OBJ");
}

async fn a_query_server_registered_by_name_is_found(backend: Backend) {
    let sim = QuerySim::start(&[]);
    // Only the property server is named by proxy; the stat server by its servant name,
    // registered as tarsregistry would have it.
    let p = Platform::start_with(
        backend,
        PlatformOptions::with_env(&[("TARS_PROPERTY_QUERY_OBJ", sim.property.as_str())]),
    )
    .await;
    let endpoint = sim.stat.split_once('@').unwrap().1;
    p.db()
        .await
        .execute(&format!(
            "INSERT INTO t_adapter_conf (application, server_name, node_name, adapter_name, servant, endpoint) \
             VALUES ('tars', 'tarsquerystat', '127.0.0.1', 'tars.tarsquerystat.QueryObjAdapter', \
             'tars.tarsquerystat.QueryObj', '{endpoint}')"
        ))
        .await;
    let rows = stat(
        &p,
        &[("thedate", THE), ("predate", PRE), ("group_by", "f_date")],
    )
    .await;
    assert_eq!(rows[0]["the_total_count"], "188");
}

crate::on_every_backend!(
    stat_rows_by_time_point_with_every_wave,
    stat_rows_by_caller_compare_real_figures,
    stat_filters_and_window,
    stat_comparison_of_equal_dates_and_negative_totals,
    property_values_per_policy,
    bad_parameters_are_refused_before_any_query,
    query_server_failures_are_503_naming_the_servant,
    a_query_server_registered_by_name_is_found,
);
