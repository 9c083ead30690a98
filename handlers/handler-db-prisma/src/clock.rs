//! Prisma names a migration folder after the UTC moment it was created, as
//! `YYYYMMDDHHMMSS`. The handler has no calendar library (and needs none for
//! UTC), so the conversion from Unix time lives here.

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: u64 = 86_400;

/// The current UTC time as a migration folder prefix.
pub fn migration_timestamp_now() -> String {
    // Only a broken host clock is before 1970; the epoch is still a valid,
    // sortable name, so there is no reason to fail the whole run over it.
    let unix_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    migration_timestamp(unix_secs)
}

/// Formats a Unix time (seconds, UTC) as `YYYYMMDDHHMMSS`.
pub fn migration_timestamp(unix_secs: u64) -> String {
    let (year, month, day) = civil_date(unix_secs / SECONDS_PER_DAY);
    let second_of_day = unix_secs % SECONDS_PER_DAY;
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}")
}

/// Milliseconds since the epoch (how some writers keep SQLite times) as
/// RFC 3339 in UTC; a time before 1970 is shown as the epoch.
pub fn rfc3339_from_millis(millis: i64) -> String {
    let millis = u64::try_from(millis).unwrap_or(0);
    let stamp = migration_timestamp(millis / 1000);
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
/// Walking whole years then whole months costs a few dozen iterations for any
/// date this code will meet, and is easier to trust than a closed formula.
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
        assert_eq!(migration_timestamp(0), "19700101000000");
    }

    #[test]
    fn leap_day_of_a_400_year() {
        assert_eq!(migration_timestamp(951_782_400), "20000229000000");
    }

    #[test]
    fn last_second_of_a_leap_year() {
        assert_eq!(migration_timestamp(1_735_689_599), "20241231235959");
    }

    #[test]
    fn march_after_a_leap_february() {
        assert_eq!(migration_timestamp(68_256_001), "19720301000001");
    }

    #[test]
    fn century_that_is_not_a_leap_year() {
        assert_eq!(migration_timestamp(4_107_587_696), "21000301123456");
    }

    #[test]
    fn ordinary_evening() {
        assert_eq!(migration_timestamp(1_795_477_500), "20261123234500");
    }

    #[test]
    fn milliseconds_as_rfc3339() {
        assert_eq!(
            rfc3339_from_millis(1_795_477_500_123),
            "2026-11-23T23:45:00.123Z"
        );
    }

    #[test]
    fn now_has_fourteen_digits() {
        let now = migration_timestamp_now();
        assert_eq!(now.len(), 14);
        assert!(now.bytes().all(|b| b.is_ascii_digit()));
    }
}
