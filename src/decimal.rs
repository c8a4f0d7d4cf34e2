//! Exact decimal amounts, and their conversion to integer minor units.
//!
//! Hantera sends money as JSON numbers (`199.99`). A JSON number that reaches us as an `f64`
//! is turned back into the decimal the host wrote by taking its shortest round-trip
//! representation (what `JSON.stringify` prints, and what Rust's `Display` prints), then parsed
//! digit by digit into an integer mantissa and a scale. From there on everything is integer
//! arithmetic: no float ever touches an amount.

use crate::float_text;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// Largest magnitude accepted for any amount or quantity (10^15): far above any real cart.
/// Arithmetic on decimals is checked (`checked_*`): with up to 18 decimals a product can still
/// exceed an `i128`.
const MAX_MAGNITUDE: i128 = 1_000_000_000_000_000;
/// Most fractional digits accepted. `0.1 + 0.2` prints with 17.
const MAX_SCALE: u32 = 18;
/// Largest amount, in minor units, that leaves this module (10^12: ten thousand times Kustom's
/// whole-order ceiling of 1000 lines × 10^8). Products with quantities ≤ 10^6 fit in an `i64`.
pub const MAX_MINOR_UNITS: i64 = 1_000_000_000_000;

/// An exact decimal: `mantissa × 10^-scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Why a number is not an acceptable amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecimalError {
    NotFinite,
    NotANumber(String),
    OutOfRange,
    TooManyDecimals,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::NotFinite => write!(f, "is not a finite number"),
            DecimalError::NotANumber(text) => write!(f, "{text:?} is not a decimal number"),
            DecimalError::OutOfRange => write!(f, "is out of range (magnitude 10^15 or more)"),
            DecimalError::TooManyDecimals => {
                write!(f, "has more than {MAX_SCALE} decimal places")
            }
        }
    }
}

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    pub fn from_i64(value: i64) -> Result<Decimal, DecimalError> {
        Self::checked(value as i128, 0)
    }

    /// The decimal an `f64` stands for: its shortest round-trip representation.
    pub fn from_f64(value: f64) -> Result<Decimal, DecimalError> {
        if !value.is_finite() {
            return Err(DecimalError::NotFinite);
        }
        if value.abs() >= MAX_MAGNITUDE as f64 {
            return Err(DecimalError::OutOfRange);
        }
        // The shortest digits that round-trip, e.g. 199.99 → "199.99", 1e-7 → "0.0000001".
        Self::parse(&float_text::display(value))
    }

    /// Parses `[-]digits[.digits]`. Exponents, `+`, spaces and empty parts are refused.
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        let bad = || DecimalError::NotANumber(text.chars().take(40).collect());
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int_part.is_empty() || (body.contains('.') && frac_part.is_empty()) {
            return Err(bad());
        }
        let frac_digits = frac_part.trim_end_matches('0');
        if frac_digits.len() > MAX_SCALE as usize {
            return Err(DecimalError::TooManyDecimals);
        }
        let mut mantissa: i128 = 0;
        for byte in int_part.bytes().chain(frac_digits.bytes()) {
            if !byte.is_ascii_digit() {
                return Err(bad());
            }
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(byte - b'0')))
                .ok_or(DecimalError::OutOfRange)?;
        }
        if negative {
            mantissa = -mantissa;
        }
        Self::checked(mantissa, frac_digits.len() as u32)
    }

    fn checked(mantissa: i128, scale: u32) -> Result<Decimal, DecimalError> {
        let value = Decimal { mantissa, scale };
        if value.integer_part().abs() >= MAX_MAGNITUDE {
            return Err(DecimalError::OutOfRange);
        }
        Ok(value)
    }

    fn integer_part(self) -> i128 {
        self.mantissa / 10i128.pow(self.scale)
    }

    pub fn is_negative(self) -> bool {
        self.mantissa < 0
    }

    /// The value as an integer, when it has no fractional part.
    pub fn to_integer(self) -> Option<i64> {
        if self.mantissa % 10i128.pow(self.scale) != 0 {
            return None;
        }
        i64::try_from(self.integer_part()).ok()
    }

    /// The value in minor units of a currency with `exponent` decimals, rounded half away
    /// from zero when it has more decimals than the currency (e.g. a computed unit price).
    /// `None` beyond ±`MAX_MINOR_UNITS`, so that callers' `i64` arithmetic cannot overflow.
    pub fn to_minor_units(self, exponent: u32) -> Option<i64> {
        let minor = if self.scale <= exponent {
            self.mantissa
                .checked_mul(10i128.pow(exponent - self.scale))?
        } else {
            round_half_away(self.mantissa, 10i128.pow(self.scale - exponent))
        };
        i64::try_from(minor)
            .ok()
            .filter(|m| m.abs() <= MAX_MINOR_UNITS)
    }

    /// `self × factor` exactly, or `None` on overflow.
    pub fn checked_mul_int(self, factor: i64) -> Option<Decimal> {
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(i128::from(factor))?,
            scale: self.scale,
        })
    }

    /// `self − other` exactly, or `None` on overflow.
    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        Some(Decimal {
            mantissa: self.rescaled(scale)?.checked_sub(other.rescaled(scale)?)?,
            scale,
        })
    }

    /// True when |self| is strictly less than one minor unit of a currency with `exponent`.
    pub fn is_below_one_minor_unit(self, exponent: u32) -> bool {
        let scale = self.scale.max(exponent);
        self.rescaled(scale)
            .is_some_and(|m| m.abs() < 10i128.pow(scale - exponent))
    }

    fn rescaled(self, scale: u32) -> Option<i128> {
        self.mantissa.checked_mul(10i128.pow(scale - self.scale))
    }
}

impl Decimal {
    /// `minor` minor units of a currency with `exponent` decimals (e.g. 94080, 2 → 940.80).
    pub fn from_minor_units(minor: i64, exponent: u32) -> Decimal {
        Decimal {
            mantissa: i128::from(minor),
            scale: exponent,
        }
    }

    /// As a JSON number for the platform, which takes amounts as decimal numbers: the double
    /// nearest to the exact value, i.e. what a JS host's `JSON.parse("940.80")` makes of it.
    /// Both operands are integers below 2^53, exact as doubles, and IEEE 754 division is
    /// correctly rounded, so this one division *is* that nearest double (no float arithmetic
    /// on the amount itself; and no float parser in the module).
    pub fn to_json_number(self) -> serde_json::Value {
        const EXACT: i128 = 1 << 53;
        let divisor = 10i128.pow(self.scale);
        if self.mantissa.abs() >= EXACT || divisor >= EXACT {
            return serde_json::Value::Null; // beyond amounts (callers pass bounded minor units)
        }
        if self.mantissa % divisor == 0 {
            return serde_json::Value::from((self.mantissa / divisor) as i64);
        }
        serde_json::Number::from_f64(self.mantissa as f64 / divisor as f64)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int_part}.{frac_part}")
    }
}

/// `numerator / divisor` rounded half away from zero (`divisor > 0`).
pub fn round_half_away(numerator: i128, divisor: i128) -> i128 {
    let quotient = numerator / divisor;
    let remainder = numerator % divisor;
    if 2 * remainder.abs() >= divisor {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

/// Accepts a JSON number or a decimal string ("199.99"); refuses everything else with a message
/// that names what was found.
impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;
        impl Visitor<'_> for DecimalVisitor {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a finite decimal number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Decimal::from_i64(v).map_err(|e| E::custom(format!("{v} {e}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("number is out of range"))?;
                self.visit_i64(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Decimal::from_f64(v)
                    .map_err(|e| E::custom(format!("{} {e}", float_text::display(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                Decimal::parse(v).map_err(|e| E::custom(format!("amount {e}")))
            }
        }
        deserializer.deserialize_any(DecimalVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(text: &str, exponent: u32) -> i64 {
        Decimal::parse(text)
            .unwrap()
            .to_minor_units(exponent)
            .unwrap()
    }

    #[test]
    fn floats_become_the_decimal_the_host_wrote() {
        // 199.99 is 199.990000000000009094947... as an f64; naive ×100 gives 19998.999...
        let from_f64 = |x: f64, exponent| Decimal::from_f64(x).unwrap().to_minor_units(exponent);
        assert_eq!(from_f64(199.99, 2), Some(19999));
        assert_eq!(
            Decimal::from_f64(0.1 + 0.2).unwrap().to_string(),
            "0.30000000000000004"
        );
        assert_eq!(Decimal::from_f64(1e-7).unwrap().to_string(), "0.0000001");
        assert_eq!(from_f64(-12.5, 0), Some(-13));
        assert_eq!(from_f64(1234.5, 3), Some(1_234_500));
    }

    #[test]
    fn conversion_rounds_half_away_from_zero() {
        assert_eq!(minor("33.333", 2), 3333);
        assert_eq!(minor("0.005", 2), 1);
        assert_eq!(minor("-0.005", 2), -1);
        assert_eq!(minor("0.00499", 2), 0);
        assert_eq!(minor("100", 0), 100);
        assert_eq!(minor("1.5", 0), 2);
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        assert_eq!(Decimal::from_f64(f64::NAN), Err(DecimalError::NotFinite));
        assert_eq!(
            Decimal::from_f64(f64::INFINITY),
            Err(DecimalError::NotFinite)
        );
        assert_eq!(Decimal::from_f64(1e300), Err(DecimalError::OutOfRange));
        assert_eq!(
            Decimal::parse("1000000000000000"),
            Err(DecimalError::OutOfRange)
        );
        for text in [
            "", "-", "1.", ".5", "1e5", "+1", "1,5", " 1", "abc", "1.2.3",
        ] {
            assert!(
                matches!(Decimal::parse(text), Err(DecimalError::NotANumber(_))),
                "{text:?}"
            );
        }
        assert_eq!(
            Decimal::parse("0.0000000000000000001"),
            Err(DecimalError::TooManyDecimals)
        );
        // trailing zeros do not count as decimals
        assert_eq!(minor("1.50000000000000000000000", 2), 150);
    }

    #[test]
    fn integers_and_exact_arithmetic() {
        assert_eq!(Decimal::parse("3").unwrap().to_integer(), Some(3));
        assert_eq!(Decimal::parse("3.0").unwrap().to_integer(), Some(3));
        assert_eq!(Decimal::parse("2.5").unwrap().to_integer(), None);
        let unit = Decimal::parse("33.333").unwrap();
        let diff = unit
            .checked_mul_int(3)
            .and_then(|d| d.checked_sub(Decimal::parse("100").unwrap()))
            .unwrap();
        assert_eq!(diff.to_string(), "-0.001");
        assert!(diff.is_below_one_minor_unit(2));
        assert!(!Decimal::parse("0.01").unwrap().is_below_one_minor_unit(2));
    }

    #[test]
    fn minor_units_become_the_json_number_a_host_would_parse() {
        for (minor, exponent, text) in [
            (94080, 2, "940.8"),
            (1, 2, "0.01"),
            (-2490, 2, "-24.9"),
            (3300, 0, "3300"),
            (1234567, 3, "1234.567"),
            (999_999_999_999, 2, "9999999999.99"),
        ] {
            let number = Decimal::from_minor_units(minor, exponent).to_json_number();
            assert_eq!(number.to_string(), text);
            assert_eq!(number.as_f64(), text.parse::<f64>().ok(), "{text}");
        }
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        // 10^14 with 18 decimals times 10^14 exceeds an i128
        let big = Decimal::parse("100000000000000.000000000000000001").unwrap();
        assert_eq!(big.checked_mul_int(100_000_000_000_000), None);
        let tiny = Decimal::parse("0.000000000000000001").unwrap();
        // quantity 10^14 × unitPrice 10^14 − discount 10^-18: the rescale to 18 decimals overflows
        let gross = Decimal::from_f64(1e14)
            .unwrap()
            .checked_mul_int(100_000_000_000_000);
        assert_eq!(gross.and_then(|g| g.checked_sub(tiny)), None);
        // 999 999 999 999 999 CLF (4 decimals) is beyond MAX_MINOR_UNITS
        assert_eq!(
            Decimal::parse("999999999999999").unwrap().to_minor_units(4),
            None
        );
        assert_eq!(
            Decimal::parse("100000000").unwrap().to_minor_units(4),
            Some(MAX_MINOR_UNITS)
        );
        assert_eq!(
            Decimal::parse("100000000.0001").unwrap().to_minor_units(4),
            None
        );
    }

    #[test]
    fn deserializes_numbers_and_decimal_strings() {
        let parsed: Vec<Decimal> = serde_json::from_str(r#"[199.99, 5, "12.50", -0.5]"#).unwrap();
        let shown: Vec<String> = parsed.iter().map(|d| d.to_string()).collect();
        assert_eq!(shown, ["199.99", "5", "12.5", "-0.5"]);
        let err = serde_json::from_str::<Decimal>("true").unwrap_err();
        assert!(err.to_string().contains("a finite decimal number"), "{err}");
    }
}
