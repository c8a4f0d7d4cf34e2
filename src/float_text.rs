//! What `f64`'s `Display` prints, without `core`'s float formatting.
//!
//! `Display` prints the shortest digits that read back as the same `f64`, never with an
//! exponent (`1e-7` → `0.0000001`); amounts arriving as JSON numbers are read that way
//! (`decimal.rs`). serde_json prints floats with the same shortest digits (its `zmij`), so
//! this module only rewrites serde_json's text, instead of linking `core`'s second float
//! formatter (Grisu, Dragon and their bignums: about 8 KB gzip per module).
//!
//! The two disagree in one case: when the `f64` lies exactly halfway between the two shortest
//! candidates (1024 + 2⁻¹⁴), serde_json picks the even last digit and `core` the
//! larger one. `display` detects that exactly, in integers, and takes `core`'s choice.

/// `value.to_string()`, for every `f64`.
pub fn display(value: f64) -> String {
    let Some(number) = serde_json::Number::from_f64(value.abs()) else {
        return if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .into();
    };
    let sign = if value.is_sign_negative() { "-" } else { "" };
    let Some((mut digits, mut exponent)) = shortest(&number.to_string()) else {
        return format!("{sign}0");
    };
    if is_halfway_above(value.abs(), digits, exponent) {
        digits += 1;
        while digits % 10 == 0 {
            digits /= 10;
            exponent += 1;
        }
    }
    render(sign, &digits.to_string(), exponent)
}

/// serde_json's text of a positive float (`199.99`, `1e-7`, `1.5e300`) as `digits × 10^exponent`
/// with no trailing zeros in `digits`; `None` for zero.
fn shortest(text: &str) -> Option<(u64, i32)> {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: u64 = format!("{int_part}{frac_part}").parse().ok()?;
    let mut exponent = exponent - frac_part.len() as i32;
    if digits == 0 {
        return None;
    }
    while digits % 10 == 0 {
        digits /= 10;
        exponent += 1;
    }
    Some((digits, exponent))
}

/// Whether `value` is exactly `(digits + ½) × 10^exponent`: a tie that `core` rounds up.
fn is_halfway_above(value: f64, digits: u64, exponent: i32) -> bool {
    // value = m × 2^e with m odd (value > 0 and finite here).
    let bits = value.to_bits();
    let (mut m, mut e) = match (bits >> 52) as i32 {
        0 => (bits & ((1 << 52) - 1), -1074),
        biased => ((bits & ((1 << 52) - 1)) | (1 << 52), biased - 1075),
    };
    if m == 0 {
        return false;
    }
    while m % 2 == 0 {
        m /= 2;
        e += 1;
    }
    // (digits + ½) × 10^exponent = t × 10^y with t = 5 × (2 × digits + 1), which is odd.
    let t = 5 * (2 * u128::from(digits) + 1);
    let y = exponent - 1;
    // m × 2^e = t × 2^y × 5^y with m and t odd: the powers of two must cancel.
    if y >= 0 {
        // 5^y ≤ m < 2^53 bounds y.
        e == y && y <= 22 && u128::from(m) == t * 5u128.pow(y as u32)
    } else {
        // t = m × 5^j with j = −y; t < 10^19 bounds j.
        let j = -y;
        e == y && j <= 27 && t == u128::from(m) * 5u128.pow(j as u32)
    }
}

/// `digits × 10^exponent` written out without an exponent.
fn render(sign: &str, digits: &str, exponent: i32) -> String {
    let point = digits.len() as i64 + i64::from(exponent);
    if point <= 0 {
        format!(
            "{sign}0.{}{digits}",
            "0".repeat(point.unsigned_abs() as usize)
        )
    } else if exponent >= 0 {
        format!("{sign}{digits}{}", "0".repeat(exponent as usize))
    } else {
        let (int_digits, frac_digits) = digits.split_at(point as usize);
        format!("{sign}{int_digits}.{frac_digits}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_what_display_prints() {
        let cases = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1 + 0.2,
            199.99,
            1e-7,
            1e15,
            1e16,
            1e21,
            1e300,
            -1e-300,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            123456789.0,
            0.000123,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            // ties between two shortest candidates (exact sums): `Display` takes the larger
            1024.0 + 1.0 / 16384.0,
            -1024.0 - 1.0 / 16384.0,
            1224767210385141.0 + 0.25,
            562949953421312.0 + 0.25,
            150000000000000.0 + 0.125,
            // a tie whose rounding up carries into a new digit
            9.5,
            0.5,
        ];
        for value in cases {
            assert_eq!(display(value), value.to_string());
        }
    }

    #[test]
    fn ties_at_every_magnitude_print_as_display_prints_them() {
        // Values with few binary digits after the point are where ties live: m / 2^k.
        for k in 0..40 {
            for m in (1u64..2000).step_by(7) {
                for magnitude in [1u64, 1_000, 1 << 30, 1 << 40, 1 << 49, 1 << 52] {
                    let value = (magnitude as f64) + (m as f64) / (1u64 << k) as f64;
                    assert_eq!(display(value), value.to_string(), "{m}/2^{k} + {magnitude}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_float_prints_as_display_prints_it(bits: u64) {
            let value = f64::from_bits(bits);
            proptest::prop_assert_eq!(display(value), value.to_string());
        }

        #[test]
        fn amount_like_floats_print_as_display_prints_them(
            units in -10_000_000_000_000i64..10_000_000_000_000,
            scale in 0u32..8,
        ) {
            let value = units as f64 / 10f64.powi(scale as i32);
            proptest::prop_assert_eq!(display(value), value.to_string());
        }
    }
}
