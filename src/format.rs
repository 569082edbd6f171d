//! Numbers and names as text, in one place: every table, summary, chart label and folder
//! name of every command goes through these.
//!
//! - [`number`]: table cells (CSV). The shortest text that reads back to the same `f64`,
//!   so files are exact and identical whatever the platform's formatting habits.
//! - [`short`] and [`signed`]: summaries and reports for people: four significant digits.
//! - [`fixed`]: axis labels with a set number of decimals.
//! - [`slug`]: a file-name-safe form of any text.

/// A table cell: the shortest text that reads back to the same value; `0` for zero (not
/// `-0`).
pub fn number(value: f64) -> String {
    let mut text = String::new();
    push_number(&mut text, value);
    text
}

/// Appends [`number`]'s text of `value` to `out`: the same characters as `format!("{value}")`
/// (every digit written out, no exponent). The large tables spend most of their writing
/// time formatting numbers, so the shortest digits come from `ryu` (several times faster)
/// where it is bound to agree with the standard library: both write the shortest digits
/// that read back to the value, closest to it, and differ only when two candidates are
/// exactly as close, which needs a value whose exact decimal expansion has at most 18
/// significant digits (see [`may_tie`]); those few are written by the standard library.
pub fn push_number(out: &mut String, value: f64) {
    use std::fmt::Write;
    if value == 0.0 {
        out.push('0');
        return;
    }
    if !value.is_finite() || may_tie(value) {
        write!(out, "{value}").expect("writing to a String cannot fail");
        return;
    }
    let mut buffer = ryu::Buffer::new();
    // ryu writes `[-]digits[.digits][e[-]exponent]`.
    let text = buffer.format_finite(value);
    if !text.contains('e') {
        // Plain already, as the standard library writes it but for a whole number's `.0`.
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
        return;
    }
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once('e') {
        Some((mantissa, exponent)) => (
            mantissa,
            exponent.parse::<i32>().expect("ryu writes an integer exponent"),
        ),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // The significant digits, and where the decimal point falls among them.
    let all = whole.as_bytes().iter().chain(fraction.as_bytes());
    let leading_zeros = all.clone().take_while(|&&d| d == b'0').count();
    let mut digits = [0u8; 32];
    let mut len = 0;
    for &d in all.skip(leading_zeros) {
        digits[len] = d;
        len += 1;
    }
    while len > 0 && digits[len - 1] == b'0' {
        len -= 1;
    }
    let digits = std::str::from_utf8(&digits[..len]).expect("ASCII digits");
    let point = whole.len() as i32 + exponent - leading_zeros as i32;
    if negative {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat('0').take(point.unsigned_abs() as usize));
        out.push_str(digits);
    } else if point as usize >= len {
        out.push_str(digits);
        out.extend(std::iter::repeat('0').take(point as usize - len));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
}

/// Whether two shortest decimal texts of `value` (finite, not zero) could be exactly as
/// close to it, which is where ryu (ties to even) and the standard library (ties away)
/// part. That needs the value's exact expansion to be one digit longer than the shortest
/// text, so at most 18 significant digits: an integer, or `m / 2^k` (`m` odd) with
/// `m · 5^k < 10^18`, which rules out k ≥ 26 and every value with a full mantissa.
fn may_tie(value: f64) -> bool {
    let bits = value.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    let shift = mantissa.trailing_zeros();
    let (odd, exponent) = (mantissa >> shift, exponent + shift as i32);
    if exponent >= 0 {
        return true;
    }
    let k = exponent.unsigned_abs();
    k <= 25 && u128::from(odd) * 5u128.pow(k) < 1_000_000_000_000_000_000
}

/// A table cell for an optional value: empty when there is none.
pub fn optional(value: Option<f64>) -> String {
    value.map_or_else(String::new, number)
}

/// Four significant digits, an exponent only for very large or small magnitudes; `-`
/// for a value that is not finite.
pub fn short(value: f64) -> String {
    if !value.is_finite() {
        return "-".to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let exponent = value.abs().log10().floor() as i32;
    if !(-4..6).contains(&exponent) {
        return format!("{value:.3e}");
    }
    let decimals = (3 - exponent).max(0) as usize;
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" {
        "0".to_string()
    } else {
        text
    }
}

/// Like [`short`] with a sign.
pub fn signed(value: f64) -> String {
    if value > 0.0 {
        format!("+{}", short(value))
    } else {
        short(value)
    }
}

/// `decimals` decimals, without a minus sign on a value that rounds to zero.
pub fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

/// A file-name-safe slug of any text: ASCII letters, digits, `_` and `-`, runs of
/// anything else as one `_`.
pub fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            slug.push(c);
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_exactly_and_short_ones_read_well() {
        for value in [0.1, 1.0 / 3.0, 1e-300, 123456789.125, -2.5] {
            assert_eq!(number(value).parse::<f64>().unwrap(), value);
        }
        assert_eq!(number(-0.0), "0");
        assert_eq!(optional(None), "");
        assert_eq!(short(0.123456), "0.1235");
        assert_eq!(short(0.0015), "0.0015");
        assert_eq!(short(12.5), "12.5");
        assert_eq!(short(123456.0), "123456");
        assert_eq!(short(1.5e-7), "1.500e-7");
        assert_eq!(short(f64::NAN), "-");
        assert_eq!(signed(0.5), "+0.5");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(2.5, 1), "2.5");
    }

    #[test]
    fn numbers_are_written_as_the_standard_library_writes_them() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let special = [
            f64::from_bits(0x4315_382a_2600_466d),
            2f64.powi(46) + 0.125,
            1.0,
            -1.0,
            0.1,
            123.0,
            1e-7,
            1.5e-7,
            1e15,
            1e16,
            1e17,
            1.2345e21,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            0.3,
            2.0 / 3.0,
            100.0,
            1e-5,
            1e-4,
            12345.678,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let random = (0..400_000).map(|i| match i % 4 {
            // Any bit pattern, values of every magnitude, and round-ish values.
            0 => f64::from_bits(rng.random::<u64>()),
            1 => rng.random::<f64>() * 10f64.powi(rng.random_range(-30..30)),
            2 => (rng.random_range(-1_000_000..1_000_000) as f64) / 10f64.powi(rng.random_range(0..8)),
            // Values with short exact expansions, where shortest texts can tie.
            _ => (rng.random::<u64>() >> rng.random_range(0..64)) as f64 * 2f64.powi(-rng.random_range(0..60)),
        });
        for value in special.into_iter().chain(random) {
            let want = if value == 0.0 {
                "0".to_string()
            } else {
                format!("{value}")
            };
            assert_eq!(number(value), want, "bits {:#x}", value.to_bits());
        }
    }

    #[test]
    fn slugs_are_safe_for_file_names() {
        assert_eq!(slug("patrons.USA.investment budget"), "patrons_USA_investment_budget");
        assert_eq!(slug("../etc"), "etc");
    }
}
