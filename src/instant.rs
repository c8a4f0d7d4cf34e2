//! Just enough ISO 8601 / RFC 3339 to schedule a job `seconds` after the host's `now`:
//! parse `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`, add seconds, print UTC with `Z`.
//! (A date crate would cost more wasm than this whole module.)
//!
//! Instants are kept within years 0000..=9999 (UTC) so that every printed one has the
//! four-digit year a scheduler parses: `parse` refuses what falls outside once its offset is
//! applied, and `plus_seconds` stops at the last second of 9999.

use crate::error::AppError;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the instants with a four-digit year.
const MIN_UNIX_SECONDS: i64 = -62_167_219_200;
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// Seconds since 1970-01-01T00:00:00Z, and the fractional-second digits as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instant {
    unix_seconds: i64,
}

impl Instant {
    pub fn parse(text: &str) -> Result<Instant, AppError> {
        let bad = || AppError::bad_input("now", format!("{text:?} is not an ISO 8601 instant"));
        // Every position below is a byte offset: only ASCII text can be sliced at any of them
        // (a multi-byte character would put a slice inside it, and trap).
        if !text.is_ascii() {
            return Err(bad());
        }
        let bytes = text.as_bytes();
        if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
            return Err(bad());
        }
        if !matches!(bytes[10], b'T' | b't' | b' ') || bytes[16] != b':' {
            return Err(bad());
        }
        let num = |range: std::ops::Range<usize>| -> Result<i64, AppError> {
            let part = text.get(range).ok_or_else(bad)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(bad());
        }
        let mut rest = &text[19..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            rest = &fraction[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
                let sign = if rest.starts_with('-') { -1 } else { 1 };
                let (hours, minutes) = (
                    num_at(rest, 1..3).ok_or_else(bad)?,
                    num_at(rest, 4..6).ok_or_else(bad)?,
                );
                if hours > 23 || minutes > 59 {
                    return Err(bad());
                }
                sign * (hours * 3600 + minutes * 60)
            }
            _ => return Err(bad()),
        };
        let days = days_from_civil(year, month, day);
        let unix_seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
        if !(MIN_UNIX_SECONDS..=MAX_UNIX_SECONDS).contains(&unix_seconds) {
            return Err(bad());
        }
        Ok(Instant { unix_seconds })
    }

    pub fn unix_seconds(&self) -> i64 {
        self.unix_seconds
    }

    /// Later by `seconds`, at most the last second of year 9999.
    pub fn plus_seconds(&self, seconds: i64) -> Instant {
        Instant {
            unix_seconds: self
                .unix_seconds
                .saturating_add(seconds)
                .clamp(MIN_UNIX_SECONDS, MAX_UNIX_SECONDS),
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, UTC).
    pub fn to_iso(&self) -> String {
        let days = self.unix_seconds.div_euclid(86_400);
        let secs = self.unix_seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

fn num_at(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    text.get(range)
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))?
        .parse()
        .ok()
}

// Howard Hinnant's civil-calendar algorithms (public domain).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_adds_and_prints_utc() {
        let now = Instant::parse("2026-11-25T06:12:57.123Z").unwrap();
        assert_eq!(now.to_iso(), "2026-11-25T06:12:57Z");
        assert_eq!(now.plus_seconds(35).to_iso(), "2026-11-25T06:13:32Z");
        assert_eq!(now.plus_seconds(18 * 3600).to_iso(), "2026-11-26T00:12:57Z");
        let leap = Instant::parse("2028-02-28T23:59:59+00:00").unwrap();
        assert_eq!(leap.plus_seconds(1).to_iso(), "2028-02-29T00:00:00Z");
        let offset = Instant::parse("2026-01-01T01:30:00+02:00").unwrap();
        assert_eq!(offset.to_iso(), "2025-12-31T23:30:00Z");
        assert_eq!(
            Instant::parse("1970-01-01T00:00:00Z").unwrap().unix_seconds,
            0
        );
    }

    #[test]
    fn stays_within_four_digit_years() {
        let first = Instant::parse("0000-01-01T00:00:00Z").unwrap();
        assert_eq!(first.unix_seconds, MIN_UNIX_SECONDS);
        assert_eq!(first.to_iso(), "0000-01-01T00:00:00Z");
        let last = Instant::parse("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(last.unix_seconds, MAX_UNIX_SECONDS);
        assert_eq!(last.plus_seconds(3600).to_iso(), "9999-12-31T23:59:59Z");
        assert_eq!(last.plus_seconds(i64::MAX).to_iso(), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn refuses_what_is_not_an_instant() {
        for text in [
            "",
            "yesterday",
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-11-25T06:12:57",
            "2026-11-25T06:12:57.Z",
            "2026-11-25T06:12:57+0200",
            "２０２６-11-25T06:12:57Z",
            // multi-byte characters where the parser slices: refused, not trapped on
            "2026-11-25T06:12:57é",
            "2026-11-25T06:12:57+é1:00",
            "2026-11-25T06:12:5€Z",
            // beyond a four-digit year once the offset is applied, or an offset past 23:59
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-00:01",
            "2026-11-25T06:12:57+24:00",
            "2026-11-25T06:12:57+01:60",
        ] {
            assert!(Instant::parse(text).is_err(), "{text:?}");
        }
    }
}
