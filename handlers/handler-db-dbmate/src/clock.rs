//! dbmate names a migration after the UTC moment it was created, as
//! `YYYYMMDDHHMMSS`, which is also the version it records.

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: u64 = 86_400;

/// The current UTC time as a migration version.
pub fn version_now() -> String {
    version_at(unix_now())
}

/// Seconds since the epoch, UTC.
pub fn unix_now() -> u64 {
    // A clock before 1970 is broken, but the epoch still makes a valid,
    // sortable version; failing the run over it would help nobody.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A Unix time (seconds, UTC) as `YYYYMMDDHHMMSS`.
pub fn version_at(unix_secs: u64) -> String {
    let (year, month, day) = date_of_day(unix_secs / SECONDS_PER_DAY);
    let secs = unix_secs % SECONDS_PER_DAY;
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The Gregorian (year, month, day) of a day counted from 1970-01-01.
///
/// Counting years from 1 March puts the leap day at the end of the year, so
/// that, within a 400-year cycle, months and leap years follow plain integer
/// arithmetic (the well-known "days to civil" conversion).
fn date_of_day(days_since_epoch: u64) -> (u64, u64, u64) {
    const DAYS_PER_400_YEARS: u64 = 146_097;
    // Days from 0000-03-01 to 1970-01-01.
    let days = days_since_epoch + 719_468;
    let cycle = days / DAYS_PER_400_YEARS;
    let day_of_cycle = days % DAYS_PER_400_YEARS;
    let year_of_cycle =
        (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524 - day_of_cycle / 146_096) / 365;
    let day_of_year =
        day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    // 0 = March … 11 = February; month lengths repeat every five months.
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = cycle * 400 + year_of_cycle + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch() {
        assert_eq!(version_at(0), "19700101000000");
    }

    #[test]
    fn leap_day_of_a_400_year() {
        assert_eq!(version_at(951_782_400), "20000229000000");
    }

    #[test]
    fn last_second_of_a_leap_year() {
        assert_eq!(version_at(1_735_689_599), "20241231235959");
    }

    #[test]
    fn century_that_is_not_a_leap_year() {
        assert_eq!(version_at(4_107_587_696), "21000301123456");
    }

    #[test]
    fn early_morning() {
        assert_eq!(version_at(1_795_482_123), "20261124010203");
    }

    #[test]
    fn last_four_digit_year() {
        assert_eq!(version_at(253_402_300_799), "99991231235959");
    }

    #[test]
    fn now_is_fourteen_digits() {
        let now = version_now();
        assert_eq!(now.len(), 14);
        assert!(now.bytes().all(|b| b.is_ascii_digit()), "{now}");
    }
}
