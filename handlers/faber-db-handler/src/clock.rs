//! The UTC clock and migration timestamps.
//!
//! Migration tools name a migration after the UTC moment it was created, as
//! `YYYYMMDDHHMMSS` (Prisma's folders, dbmate's versions). A handler needs no
//! calendar library for UTC, so the conversion from Unix time lives here.

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: u64 = 86_400;

/// Seconds since the epoch, UTC (the host grants WASI's wall clock).
pub fn unix_now() -> u64 {
    since_epoch().as_secs()
}

/// Milliseconds since the epoch, UTC (as Drizzle Kit stamps a migration).
pub fn unix_now_millis() -> u64 {
    since_epoch().as_millis() as u64
}

fn since_epoch() -> std::time::Duration {
    // Only a broken clock is before 1970; the epoch still makes a valid,
    // sortable name, so there is no reason to fail a whole run over it.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The current UTC time as a migration timestamp.
pub fn timestamp_now() -> String {
    timestamp_at(unix_now())
}

/// A Unix time (seconds, UTC) as `YYYYMMDDHHMMSS`.
pub fn timestamp_at(unix_secs: u64) -> String {
    let (year, month, day) = civil_date(unix_secs / SECONDS_PER_DAY);
    let second_of_day = unix_secs % SECONDS_PER_DAY;
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Milliseconds since the epoch (how some writers keep SQLite times) as
/// RFC 3339 in UTC; a time before 1970 is shown as the epoch.
pub fn rfc3339_from_millis(millis: i64) -> String {
    let millis = u64::try_from(millis).unwrap_or(0);
    let stamp = timestamp_at(millis / 1000);
    format!(
        "{}-{}-{}T{}:{}:{}.{:03}Z",
        &stamp[..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[8..10],
        &stamp[10..12],
        &stamp[12..],
        millis % 1000
    )
}

/// The Gregorian (year, month, day) that is `days` days after 1970-01-01.
///
/// Walking whole years then whole months costs a few thousand iterations at
/// most for any four-digit year, and is easier to trust than a closed formula.
fn civil_date(mut days: u64) -> (u64, u64, u64) {
    let mut year = 1970;
    while days >= days_in_year(year) {
        days -= days_in_year(year);
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    (year, month, days + 1)
}

fn is_leap_year(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_year(year: u64) -> u64 {
    if is_leap_year(year) { 366 } else { 365 }
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch() {
        assert_eq!(timestamp_at(0), "19700101000000");
    }

    #[test]
    fn leap_day_of_a_400_year() {
        assert_eq!(timestamp_at(951_782_400), "20000229000000");
    }

    #[test]
    fn last_second_of_a_leap_year() {
        assert_eq!(timestamp_at(1_735_689_599), "20241231235959");
    }

    #[test]
    fn march_after_a_leap_february() {
        assert_eq!(timestamp_at(68_256_001), "19720301000001");
    }

    #[test]
    fn century_that_is_not_a_leap_year() {
        assert_eq!(timestamp_at(4_107_587_696), "21000301123456");
    }

    #[test]
    fn early_morning_and_evening() {
        assert_eq!(timestamp_at(1_795_482_123), "20261124010203");
        assert_eq!(timestamp_at(1_795_477_500), "20261123234500");
    }

    #[test]
    fn last_four_digit_year() {
        assert_eq!(timestamp_at(253_402_300_799), "99991231235959");
    }

    #[test]
    fn milliseconds_as_rfc3339() {
        assert_eq!(
            rfc3339_from_millis(1_795_477_500_123),
            "2026-11-23T23:45:00.123Z"
        );
        assert_eq!(rfc3339_from_millis(-5), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn now_has_fourteen_digits() {
        let now = timestamp_now();
        assert_eq!(now.len(), 14);
        assert!(now.bytes().all(|b| b.is_ascii_digit()), "{now}");
    }
}
