//! Graph's `DateTimeOffset`: parsing, the instant it names, and the range .NET can hold.
//!
//! The schema's pattern and `format: date-time` decide what is well formed; this module adds
//! what a schema cannot say: two spellings of one instant are equal (to 100 ns, the resolution
//! of .NET's `DateTimeOffset`), offsets stay within ±14:00, and the instant lies in years 1–9999.

use std::fmt;

/// Ticks of 100 ns per second, the resolution Graph services keep.
const TICKS_PER_SECOND: i128 = 10_000_000;

/// One parsed `DateTimeOffset` as written: the local fields and the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Fraction of a second in 100 ns ticks (digits beyond the seventh are dropped).
    pub ticks: u32,
    /// Offset from UTC in minutes (`Z` is 0).
    pub offset_minutes: i32,
}

/// Why a string is not a date-time this module can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeError(pub String);

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DateTimeError {}

fn err<T>(msg: impl Into<String>) -> Result<T, DateTimeError> {
    Err(DateTimeError(msg.into()))
}

fn digits(s: &[u8], what: &str) -> Result<u32, DateTimeError> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return err(format!("{what} is not a number"));
    }
    s.iter()
        .try_fold(0u32, |acc, d| acc.checked_mul(10)?.checked_add(u32::from(d - b'0')))
        .map_or_else(|| err(format!("{what} is too large")), Ok)
}

/// Days in `month` of `year` (proleptic Gregorian).
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian year of a day count since 1970-01-01.
fn year_from_days(days: i64) -> i64 {
    civil_from_days(days).0
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_utc(unix_seconds: i64) -> String {
    let (y, mo, d) = civil_from_days(unix_seconds.div_euclid(86_400));
    let s = unix_seconds.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// The current time as `YYYY-MM-DDThh:mm:ssZ`.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    format_utc(secs)
}

impl DateTime {
    /// Parses `YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)`, the shape Graph's pattern allows
    /// (upper-case `T` and `Z`, four or more year digits, a fraction of 1–12 digits).
    pub fn parse(s: &str) -> Result<DateTime, DateTimeError> {
        let b = s.as_bytes();
        let dash = b.iter().position(|&c| c == b'-').ok_or_else(|| DateTimeError("no '-' after the year".into()))?;
        if dash < 4 {
            return err("the year has fewer than four digits");
        }
        let year = i64::from(digits(&b[..dash], "the year")?);
        let rest = &b[dash..];
        if rest.len() < 16 {
            return err("too short for YYYY-MM-DDThh:mm:ss");
        }
        if rest[0] != b'-' || rest[3] != b'-' || rest[6] != b'T' || rest[9] != b':' || rest[12] != b':' {
            return err("expected YYYY-MM-DDThh:mm:ss");
        }
        let month = digits(&rest[1..3], "the month")?;
        let day = digits(&rest[4..6], "the day")?;
        let hour = digits(&rest[7..9], "the hour")?;
        let minute = digits(&rest[10..12], "the minute")?;
        let second = digits(&rest[13..15], "the second")?;
        if !(1..=12).contains(&month) {
            return err(format!("month {month} is not 1-12"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return err(format!("day {day} does not exist in {year:04}-{month:02}"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return err("the time of day is out of range");
        }
        let mut i = 15;
        let mut ticks = 0u32;
        if rest.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while end < rest.len() && rest[end].is_ascii_digit() {
                end += 1;
            }
            let frac = &rest[start..end];
            if frac.is_empty() || frac.len() > 12 {
                return err("the fraction must have 1 to 12 digits");
            }
            for k in 0..7 {
                ticks = ticks * 10 + frac.get(k).map_or(0, |d| u32::from(d - b'0'));
            }
            i = end;
        }
        let zone = &rest[i..];
        let offset_minutes = match zone {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = digits(&[*h1, *h2], "the offset hours")?;
                let m = digits(&[*m1, *m2], "the offset minutes")?;
                if m > 59 {
                    return err("the offset minutes are not 0-59");
                }
                let total = i32::try_from(h * 60 + m).unwrap_or(i32::MAX);
                if *sign == b'-' {
                    -total
                } else {
                    total
                }
            }
            _ => return err("expected 'Z' or an offset ±hh:mm after the time"),
        };
        Ok(DateTime { year, month, day, hour, minute, second, ticks, offset_minutes })
    }

    /// The instant in 100 ns ticks since 1970-01-01T00:00:00Z.
    pub fn instant(&self) -> i128 {
        let days = i128::from(days_from_civil(self.year, self.month, self.day));
        let secs =
            days * 86_400 + i128::from(self.hour) * 3600 + i128::from(self.minute) * 60 + i128::from(self.second)
                - i128::from(self.offset_minutes) * 60;
        secs * TICKS_PER_SECOND + i128::from(self.ticks)
    }

    /// Checks what .NET's `DateTimeOffset` can hold: an offset within ±14:00, and both the local
    /// and the UTC instant in years 1–9999.
    pub fn check_range(&self) -> Result<(), DateTimeError> {
        if self.offset_minutes.abs() > 14 * 60 {
            return err("the offset is beyond ±14:00");
        }
        if !(1..=9999).contains(&self.year) {
            return err(format!("year {} is outside 1-9999", self.year));
        }
        let utc_days = self.instant().div_euclid(TICKS_PER_SECOND * 86_400);
        let utc_year = year_from_days(i64::try_from(utc_days).unwrap_or(i64::MAX));
        if !(1..=9999).contains(&utc_year) {
            return err("the instant in UTC falls outside years 1-9999");
        }
        Ok(())
    }
}

/// Whether two strings name the same instant (to 100 ns); false if either is not a date-time.
pub fn same_instant(a: &str, b: &str) -> bool {
    match (DateTime::parse(a), DateTime::parse(b)) {
        (Ok(x), Ok(y)) => x.instant() == y.instant(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instant_many_spellings() {
        assert!(same_instant("2017-01-01T00:02:49.3205976-08:00", "2017-01-01T08:02:49.3205976Z"));
        assert!(same_instant("2017-01-01T08:02:49.32059760Z", "2017-01-01T08:02:49.3205976Z"));
        assert!(same_instant("2017-01-01T08:02:49Z", "2017-01-01T09:02:49.0+01:00"));
        assert!(!same_instant("2017-01-01T08:02:49Z", "2017-01-01T08:02:49.0000001Z"));
        assert!(!same_instant("2017-01-01T08:02:49Z", "not a date"));
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "2017-01-01",
            "2017-13-01T00:00:00Z",
            "2017-02-30T00:00:00Z",
            "2017-01-01T24:00:00Z",
            "2017-01-01T00:00:00",
            "2017-01-01 00:00:00Z",
            "2017-01-01T00:00:00.Z",
            "2017-01-01T00:00:00.1234567890123Z",
            "17-01-01T00:00:00Z",
            "2017-01-01T00:00:00+0100",
        ] {
            assert!(DateTime::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_483_228_969), "2017-01-01T00:02:49Z");
        assert_eq!(format_utc(951_825_600), "2000-02-29T12:00:00Z");
    }

    #[test]
    fn range() {
        let ok = |s: &str| DateTime::parse(s).unwrap().check_range().is_ok();
        assert!(ok("0001-01-01T00:00:00Z"));
        assert!(ok("9999-12-31T23:59:59.9999999Z"));
        assert!(ok("2020-01-01T00:00:00+14:00"));
        assert!(!ok("2020-01-01T00:00:00+14:01"));
        assert!(!ok("2020-01-01T00:00:00-15:00"));
        assert!(!ok("0000-12-31T00:00:00Z"));
        assert!(!ok("10000-01-01T00:00:00Z"));
        assert!(!ok("0001-01-01T00:00:00+01:00"));
        assert!(!ok("9999-12-31T23:00:00-02:00"));
    }
}
