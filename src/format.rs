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
    if value == 0.0 {
        "0".to_string()
    } else {
        format!("{value}")
    }
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
    fn slugs_are_safe_for_file_names() {
        assert_eq!(slug("patrons.USA.investment budget"), "patrons_USA_investment_budget");
        assert_eq!(slug("../etc"), "etc");
    }
}
