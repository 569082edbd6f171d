//! Calendar quarters: the model's unit of time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A calendar quarter such as `2024Q1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// Quarters since year 0 Q1: `year * 4 + (q - 1)`.
    index: i64,
}

impl Quarter {
    /// Builds a quarter; `q` must be 1..=4.
    pub fn new(year: i32, q: u8) -> Option<Quarter> {
        if !(1..=4).contains(&q) {
            return None;
        }
        Some(Quarter {
            index: i64::from(year) * 4 + i64::from(q - 1),
        })
    }

    pub fn year(self) -> i32 {
        self.index.div_euclid(4) as i32
    }

    /// 1..=4
    pub fn quarter_of_year(self) -> u8 {
        (self.index.rem_euclid(4) + 1) as u8
    }

    /// The quarter `n` quarters later.
    pub fn plus(self, n: i64) -> Quarter {
        Quarter { index: self.index + n }
    }

    /// Quarters from `earlier` to `self` (negative if `self` is earlier).
    pub fn since(self, earlier: Quarter) -> i64 {
        self.index - earlier.index
    }

    /// Decimal year of the quarter's start (2024Q3 is 2024.5), for chart axes.
    pub fn decimal_year(self) -> f64 {
        self.index as f64 / 4.0
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year(), self.quarter_of_year())
    }
}

/// Why a quarter could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a quarter like \"2024Q1\" (year 1900-2200, quarter 1-4), got {0:?}")]
pub struct ParseQuarterError(pub String);

impl FromStr for Quarter {
    type Err = ParseQuarterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseQuarterError(s.to_string());
        let upper = s.trim().to_ascii_uppercase();
        let (year, q) = upper.split_once('Q').ok_or_else(err)?;
        let year: i32 = year.trim_end_matches('-').parse().map_err(|_| err())?;
        let q: u8 = q.parse().map_err(|_| err())?;
        if !(1900..=2200).contains(&year) {
            return Err(err());
        }
        Quarter::new(year, q).ok_or_else(err)
    }
}

impl Serialize for Quarter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quarter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let q: Quarter = "2024Q1".parse().unwrap();
        assert_eq!(q.to_string(), "2024Q1");
        assert_eq!(q.plus(47).to_string(), "2035Q4");
        assert_eq!("2015-q3".parse::<Quarter>().unwrap().to_string(), "2015Q3");
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["2024", "2024Q5", "2024Q0", "Q1", "99999Q1", "abcQ1", ""] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn arithmetic_is_consistent() {
        let a: Quarter = "2022Q1".parse().unwrap();
        let b: Quarter = "2024Q3".parse().unwrap();
        assert_eq!(b.since(a), 10);
        assert_eq!(a.plus(10), b);
        assert!((b.decimal_year() - 2024.5).abs() < 1e-12);
    }
}
