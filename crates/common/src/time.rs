//! The one time format of the API: `YYYY-MM-DD HH:MM:SS`, local time, as TARS stores it.

use chrono::{Local, NaiveDateTime};

/// The format string of every time the API shows.
pub const API_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Formats a stored time for the API; a missing time is the empty string.
pub fn format_api_time(time: Option<NaiveDateTime>) -> String {
    time.map(|t| t.format(API_TIME_FORMAT).to_string())
        .unwrap_or_default()
}

/// Now, in local time, truncated to whole seconds (what DATETIME columns keep).
pub fn now_local() -> NaiveDateTime {
    let now = Local::now().naive_local();
    now - chrono::Duration::nanoseconds(now.and_utc().timestamp_subsec_nanos() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_the_api_shows_times() {
        let t = NaiveDateTime::parse_from_str("2024-03-05 07:08:09", API_TIME_FORMAT).unwrap();
        assert_eq!(format_api_time(Some(t)), "2024-03-05 07:08:09");
        assert_eq!(format_api_time(None), "");
    }
}
