//! The one time format of the API: `YYYY-MM-DD HH:MM:SS`, local time, as TARS stores it.

use chrono::{Datelike, Local, NaiveDateTime, Timelike};

/// The format string of every time the API shows.
pub const API_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Formats a stored time for the API; a missing time is the empty string.
///
/// Written out by hand: `format(API_TIME_FORMAT)` re-parses the pattern on every call,
/// and list endpoints format two times per row.
pub fn format_api_time(time: Option<NaiveDateTime>) -> String {
    match time {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => String::new(),
    }
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
