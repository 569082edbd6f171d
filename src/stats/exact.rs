//! Exact sums of `f64` values, independent of the order of the additions.
//!
//! [`ExactSum`] holds the sum as a wide fixed-point integer (a "superaccumulator"):
//! every finite `f64` is an integer multiple of 2^-1074, so the sum of any number of them
//! is an integer multiple of 2^-1074 too, and integer addition is associative and
//! commutative. Two sums of the same values, added in any order or merged in any
//! grouping (threads, blocks, shards on other machines), hold the same bits. The value
//! is read out correctly rounded to the nearest `f64` (except when the sum is smaller
//! than 2^-1022 in magnitude, where it may be off by one unit in the last place).

/// Bits of the sum each chunk holds once normalised.
const CHUNK_BITS: u32 = 32;
/// Exponent of the least significant bit of chunk 0: the smallest subnormal `f64`.
const LOWEST_EXPONENT: i32 = -1074;
/// Chunks: enough for every finite `f64` (2^-1074 up to 2^1024) shifted within a chunk,
/// plus a top chunk that absorbs carries and the sign.
pub const CHUNKS: usize = 67;
/// Additions between two normalisations. Each adds less than 2^32 in magnitude to a
/// chunk, so an `i64` chunk cannot overflow before 2^31 of them.
const ADDS_BEFORE_NORMALISE: u32 = 1 << 30;

/// An exact sum of finite `f64` values. See the module documentation.
#[derive(Clone)]
pub struct ExactSum {
    chunks: [i64; CHUNKS],
    /// Additions since the last normalisation.
    pending: u32,
    /// Set when a non-finite value was added; the value is then NaN.
    non_finite: bool,
}

/// Sums are equal when they hold the same exact value (whatever their carries).
impl PartialEq for ExactSum {
    fn eq(&self, other: &ExactSum) -> bool {
        self.to_parts() == other.to_parts()
    }
}

impl Eq for ExactSum {}

impl Default for ExactSum {
    fn default() -> Self {
        ExactSum::new()
    }
}

impl std::fmt::Debug for ExactSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExactSum({})", self.value())
    }
}

impl ExactSum {
    pub const fn new() -> ExactSum {
        ExactSum {
            chunks: [0; CHUNKS],
            pending: 0,
            non_finite: false,
        }
    }

    /// Adds `x` exactly. A NaN or infinite `x` makes the sum NaN.
    pub fn add(&mut self, x: f64) {
        let bits = x.to_bits();
        let exponent_bits = ((bits >> 52) & 0x7ff) as u32;
        if exponent_bits == 0x7ff {
            self.non_finite = true;
            return;
        }
        let fraction = bits & ((1u64 << 52) - 1);
        if exponent_bits == 0 && fraction == 0 {
            return;
        }
        // x = mantissa * 2^(position + LOWEST_EXPONENT)
        let (mantissa, position) = if exponent_bits == 0 {
            (fraction, 0)
        } else {
            (fraction | (1u64 << 52), exponent_bits - 1)
        };
        let chunk = (position / CHUNK_BITS) as usize;
        let shifted = u128::from(mantissa) << (position % CHUNK_BITS);
        let mask = (1u128 << CHUNK_BITS) - 1;
        let pieces = [
            (shifted & mask) as i64,
            ((shifted >> CHUNK_BITS) & mask) as i64,
            (shifted >> (2 * CHUNK_BITS)) as i64,
        ];
        if x < 0.0 {
            for (i, piece) in pieces.iter().enumerate() {
                self.chunks[chunk + i] -= piece;
            }
        } else {
            for (i, piece) in pieces.iter().enumerate() {
                self.chunks[chunk + i] += piece;
            }
        }
        self.pending += 1;
        if self.pending >= ADDS_BEFORE_NORMALISE {
            self.normalise();
        }
    }

    /// Adds another exact sum: the result is the exact sum of both sets of values.
    pub fn merge(&mut self, other: &ExactSum) {
        self.normalise();
        let mut other = other.clone();
        other.normalise();
        for (a, b) in self.chunks.iter_mut().zip(other.chunks.iter()) {
            *a += b;
        }
        self.non_finite |= other.non_finite;
        self.normalise();
    }

    /// Propagates carries so every chunk but the top one is in `0..2^32`.
    fn normalise(&mut self) {
        for i in 0..CHUNKS - 1 {
            let carry = self.chunks[i] >> CHUNK_BITS;
            self.chunks[i] -= carry << CHUNK_BITS;
            self.chunks[i + 1] += carry;
        }
        self.pending = 0;
    }

    /// The sum, rounded to the nearest `f64` (ties to even); infinite if it is beyond
    /// the `f64` range, NaN if a non-finite value was added.
    pub fn value(&self) -> f64 {
        if self.non_finite {
            return f64::NAN;
        }
        let mut chunks = self.chunks;
        normalise_chunks(&mut chunks);
        let negative = chunks[CHUNKS - 1] < 0;
        if negative {
            for c in chunks.iter_mut() {
                *c = -*c;
            }
            normalise_chunks(&mut chunks);
        }
        let Some(top) = chunks.iter().rposition(|&c| c != 0) else {
            return 0.0;
        };
        let at = |i: isize| -> u128 {
            if i < 0 {
                0
            } else {
                chunks[i as usize] as u128
            }
        };
        let top = top as isize;
        // The top three chunks hold at least 65 significant bits; a sticky bit below
        // them keeps the single rounding of the u128 -> f64 conversion correct.
        let mantissa = (at(top) << (2 * CHUNK_BITS)) | (at(top - 1) << CHUNK_BITS) | at(top - 2);
        let sticky = chunks[..(top - 2).max(0) as usize].iter().any(|&c| c != 0);
        let mantissa = (mantissa << 1) | u128::from(sticky);
        let exponent = (top - 2) as i32 * CHUNK_BITS as i32 + LOWEST_EXPONENT - 1;
        let magnitude = scale_by_power_of_two(mantissa as f64, exponent);
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }

    /// The normalised chunks, for serialisation: `(index of the first chunk, chunks)`,
    /// without the zero chunks at either end.
    pub fn to_parts(&self) -> (bool, usize, Vec<i64>) {
        let mut chunks = self.chunks;
        normalise_chunks(&mut chunks);
        let first = chunks.iter().position(|&c| c != 0).unwrap_or(0);
        let last = chunks.iter().rposition(|&c| c != 0).map_or(first, |l| l + 1);
        (self.non_finite, first, chunks[first..last].to_vec())
    }

    /// Rebuilds a sum from [`ExactSum::to_parts`]; `None` if the parts do not fit.
    pub fn from_parts(non_finite: bool, first: usize, parts: &[i64]) -> Option<ExactSum> {
        if first.checked_add(parts.len())? > CHUNKS {
            return None;
        }
        let mut sum = ExactSum::new();
        sum.chunks[first..first + parts.len()].copy_from_slice(parts);
        sum.non_finite = non_finite;
        // Normalised chunks are in 0..2^32 except the top one.
        let normalised = sum.chunks[..CHUNKS - 1]
            .iter()
            .all(|&c| (0..1i64 << CHUNK_BITS).contains(&c));
        normalised.then_some(sum)
    }
}

fn normalise_chunks(chunks: &mut [i64; CHUNKS]) {
    for i in 0..CHUNKS - 1 {
        let carry = chunks[i] >> CHUNK_BITS;
        chunks[i] -= carry << CHUNK_BITS;
        chunks[i + 1] += carry;
    }
}

/// `x * 2^exponent`, in steps that stay inside the `f64` exponent range.
fn scale_by_power_of_two(mut x: f64, mut exponent: i32) -> f64 {
    while exponent > 1000 {
        x *= f64::from_bits(((1000 + 1023) as u64) << 52);
        exponent -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while exponent < -1000 {
        x *= f64::from_bits(((-1000 + 1023) as u64) << 52);
        exponent += 1000;
    }
    x * f64::from_bits(((exponent + 1023) as u64) << 52)
}

/// Adds `x` to a running Neumaier (compensated) sum `(sum, compensation)`: the result
/// `sum + compensation` is the exact sum up to rounding of the compensation.
#[inline]
pub fn compensated_add(sum: &mut f64, compensation: &mut f64, x: f64) {
    let t = *sum + x;
    if sum.abs() >= x.abs() {
        *compensation += (*sum - t) + x;
    } else {
        *compensation += (x - t) + *sum;
    }
    *sum = t;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_of(values: &[f64]) -> ExactSum {
        let mut s = ExactSum::new();
        for &v in values {
            s.add(v);
        }
        s
    }

    #[test]
    fn small_integers_and_fractions_are_exact() {
        assert_eq!(sum_of(&[1.0, 2.0, 3.5, -0.25]).value(), 6.25);
        assert_eq!(sum_of(&[]).value(), 0.0);
        assert_eq!(sum_of(&[-3.0]).value(), -3.0);
        // Naively 0.9999999999999999; exactly 1.0000000000000000555..., which rounds to 1.
        assert_eq!(sum_of(&[0.1; 10]).value(), 1.0);
    }

    #[test]
    fn cancellation_that_defeats_naive_sums_is_exact() {
        let values = [1e100, 1.0, -1e100, 1e-100];
        // Naive: (1e100 + 1) - 1e100 = 0, + 1e-100.
        assert_eq!(values.iter().sum::<f64>(), 1e-100);
        assert_eq!(sum_of(&values).value(), 1.0 + 1e-100);
        assert_eq!(sum_of(&[f64::MAX, f64::MAX, -f64::MAX]).value(), f64::MAX);
        assert_eq!(sum_of(&[f64::MAX, f64::MAX]).value(), f64::INFINITY);
        let tiny = f64::from_bits(1);
        assert_eq!(sum_of(&[tiny, tiny, tiny]).value(), f64::from_bits(3));
    }

    #[test]
    fn rounds_to_nearest_even() {
        // 1 + 2^-53 is halfway between 1 and the next f64: ties to even gives 1.
        let half_ulp = 2f64.powi(-53);
        assert_eq!(sum_of(&[1.0, half_ulp]).value(), 1.0);
        // A little more than half rounds up.
        assert_eq!(sum_of(&[1.0, half_ulp, 1e-300]).value(), 1.0 + 2.0 * half_ulp);
        // 1 + 3 * 2^-53 is halfway between 1 + 2^-52 and 1 + 2^-51: ties to even gives
        // 1 + 2^-51.
        assert_eq!(sum_of(&[1.0, 3.0 * half_ulp]).value(), 1.0 + 4.0 * half_ulp);
    }

    #[test]
    fn order_and_grouping_do_not_change_the_bits() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let values: Vec<f64> = (0..5000)
            .map(|_| {
                let mantissa = (next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                mantissa * 10f64.powi((next() % 40) as i32 - 20)
            })
            .collect();
        let forward = sum_of(&values);
        let mut reversed: Vec<f64> = values.clone();
        reversed.reverse();
        let backward = sum_of(&reversed);
        assert_eq!(forward.value().to_bits(), backward.value().to_bits());
        let mut merged = sum_of(&values[..1234]);
        merged.merge(&sum_of(&values[1234..4000]));
        merged.merge(&sum_of(&values[4000..]));
        assert_eq!(merged.value().to_bits(), forward.value().to_bits());
        assert_eq!(merged.to_parts(), forward.to_parts());
        // Against a compensated sum, which is accurate to a few ulps here.
        let (mut s, mut c) = (0.0, 0.0);
        for &v in &values {
            compensated_add(&mut s, &mut c, v);
        }
        let approx = s + c;
        assert!((approx - forward.value()).abs() <= 4.0 * f64::EPSILON * forward.value().abs().max(1e-20));
    }

    #[test]
    fn parts_round_trip() {
        let s = sum_of(&[3.25, -1e-300, 7e200]);
        let (non_finite, first, parts) = s.to_parts();
        let back = ExactSum::from_parts(non_finite, first, &parts).expect("valid parts");
        assert_eq!(back.value().to_bits(), s.value().to_bits());
        assert!(ExactSum::from_parts(false, 66, &[1, 2]).is_none());
        assert!(ExactSum::from_parts(false, 0, &[-1]).is_none());
    }

    #[test]
    fn non_finite_values_poison_the_sum() {
        assert!(sum_of(&[1.0, f64::INFINITY]).value().is_nan());
        assert!(sum_of(&[f64::NAN]).value().is_nan());
    }
}
