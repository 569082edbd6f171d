//! Sample designs for sensitivity analysis, on the unit hypercube: a Sobol' low-discrepancy
//! sequence, Saltelli's A/B/AB matrices for Sobol' indices, and Morris trajectories for
//! elementary effects. Mapping unit values onto parameter ranges is the caller's.
//!
//! All randomness comes from a seeded [`ChaCha8Rng`], so a design is the same for the same
//! seed everywhere.

use std::sync::OnceLock;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sobol::params::JoeKuoD6;

/// Most dimensions of the Sobol' sequence: Joe and Kuo's `new-joe-kuo-6.21201` direction
/// numbers (S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
/// projections", SIAM J. Sci. Comput. 30, 2008; copyright (c) 2008 Frances Y. Kuo and
/// Stephen Joe, BSD-style licence), which the `sobol` crate embeds whole.
pub const MAX_SOBOL_DIMENSIONS: usize = 21_201;
/// Most parameters a Sobol' analysis takes: Saltelli's design needs two dimensions per
/// parameter.
pub const MAX_SOBOL_PARAMETERS: usize = MAX_SOBOL_DIMENSIONS / 2;

/// The direction numbers' parameters, read (decompressed and parsed, a few milliseconds)
/// once per process.
fn joe_kuo() -> &'static JoeKuoD6 {
    static PARAMETERS: OnceLock<JoeKuoD6> = OnceLock::new();
    PARAMETERS.get_or_init(JoeKuoD6::extended)
}

/// More dimensions than the direction numbers give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a Sobol' sequence of {requested} dimensions was asked for; Joe and Kuo's direction numbers give at most {MAX_SOBOL_DIMENSIONS}"
)]
pub struct TooManyDimensions {
    pub requested: usize,
}

/// The Sobol' sequence with Joe and Kuo's direction numbers, in Gray-code order (as
/// `scipy.stats.qmc.Sobol` with `scramble=False`), optionally with a random digital shift
/// (every coordinate XORed with a fixed random 32-bit word per dimension), which keeps the
/// net's stratification and makes the estimate unbiased. The sequence itself is the `sobol`
/// crate's (32-bit resolution); the shift is ours.
pub struct Sobol {
    sequence: sobol::Sobol<u32>,
    shift: Vec<u32>,
}

impl Sobol {
    /// A sequence of `dimensions` (1 to [`MAX_SOBOL_DIMENSIONS`]).
    pub fn new(dimensions: usize) -> Result<Sobol, TooManyDimensions> {
        if dimensions == 0 || dimensions > MAX_SOBOL_DIMENSIONS {
            return Err(TooManyDimensions { requested: dimensions });
        }
        Ok(Sobol {
            sequence: sobol::Sobol::<u32>::new(dimensions, joe_kuo()),
            shift: vec![0; dimensions],
        })
    }

    /// The same sequence with a random digital shift drawn from `rng`.
    pub fn shifted(mut self, rng: &mut ChaCha8Rng) -> Sobol {
        for word in &mut self.shift {
            *word = rng.random::<u32>();
        }
        self
    }

    /// The first `n` points (each `dimensions` values in [0, 1)).
    pub fn points(&self, n: usize) -> Vec<Vec<f64>> {
        self.sequence
            .clone()
            .take(n)
            .map(|point| {
                point
                    .iter()
                    .zip(&self.shift)
                    .map(|(s, shift)| f64::from(s ^ shift) / 4_294_967_296.0)
                    .collect()
            })
            .collect()
    }
}

/// Saltelli's design for `k` parameters and base size `n`: matrices A and B (the first and
/// last `k` coordinates of a shifted Sobol' sequence of `2k` dimensions) and, for each
/// parameter `i`, AB_i (A with column `i` taken from B).
#[derive(Debug, Clone)]
pub struct Saltelli {
    pub k: usize,
    pub n: usize,
    pub a: Vec<Vec<f64>>,
    pub b: Vec<Vec<f64>>,
}

impl Saltelli {
    pub fn new(k: usize, n: usize, rng: &mut ChaCha8Rng) -> Result<Saltelli, TooManyDimensions> {
        let sequence = Sobol::new(2 * k)?.shifted(rng);
        let (a, b) = sequence
            .points(n)
            .into_iter()
            .map(|p| (p[..k].to_vec(), p[k..].to_vec()))
            .unzip();
        Ok(Saltelli { k, n, a, b })
    }

    /// Row `j` of AB_i.
    pub fn ab(&self, i: usize, j: usize) -> Vec<f64> {
        let mut row = self.a[j].clone();
        row[i] = self.b[j][i];
        row
    }

    /// Every point to evaluate, in the order A, B, AB_0, …, AB_{k−1} (each `n` rows):
    /// `n (k + 2)` points.
    pub fn points(&self) -> Vec<Vec<f64>> {
        let mut points = Vec::with_capacity(self.n * (self.k + 2));
        points.extend(self.a.iter().cloned());
        points.extend(self.b.iter().cloned());
        for i in 0..self.k {
            points.extend((0..self.n).map(|j| self.ab(i, j)));
        }
        points
    }
}

/// One Morris trajectory: `k + 1` points, each differing from the previous in one
/// parameter by ±Δ. It holds its first point and the moves; the others are made when
/// asked for (a design of 100,000 points holds about 40 bytes a point).
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Point 0.
    pub start: Vec<f64>,
    /// `moved[j]`: the parameter changed between point `j` and `j + 1`.
    pub moved: Vec<usize>,
    /// The signed step of that change (+Δ or −Δ).
    pub steps: Vec<f64>,
}

impl Trajectory {
    /// How many points: `k + 1`.
    pub fn len(&self) -> usize {
        self.moved.len() + 1
    }

    /// Never: a trajectory has its start.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Point `j`: the start with the first `j` moves made, in order (the very values the
    /// design was drawn as).
    pub fn point(&self, j: usize) -> Vec<f64> {
        let mut x = self.start.clone();
        for (&i, &step) in self.moved.iter().zip(&self.steps).take(j) {
            x[i] += step;
        }
        x
    }

    /// Every point, in order.
    pub fn points(&self) -> Vec<Vec<f64>> {
        (0..self.len()).map(|j| self.point(j)).collect()
    }
}

/// Morris's design: `r` random trajectories on a grid of `levels` levels in each of `k`
/// dimensions, with Δ = levels / (2 (levels − 1)) (Morris 1991; Saltelli et al. 2008, §3.3).
/// Each trajectory starts from a random grid point, moves the parameters in random order,
/// each once, up or down by Δ as the grid allows.
pub fn morris(k: usize, r: usize, levels: u32, rng: &mut ChaCha8Rng) -> Vec<Trajectory> {
    let p = f64::from(levels.max(2));
    let delta = p / (2.0 * (p - 1.0));
    // Starting levels from which +Δ stays on the grid: 0 .. 1 − Δ.
    let base_levels = ((levels.max(2) as usize) / 2).max(1);
    (0..r)
        .map(|_| {
            let mut x: Vec<f64> = (0..k)
                .map(|_| rng.random_range(0..base_levels as u64) as f64 / (p - 1.0))
                .collect();
            let up: Vec<bool> = (0..k).map(|_| rng.random_bool(0.5)).collect();
            // A parameter that moves down starts Δ higher.
            for (xi, &u) in x.iter_mut().zip(&up) {
                if !u {
                    *xi += delta;
                }
            }
            let mut order: Vec<usize> = (0..k).collect();
            order.shuffle(rng);
            let steps = order.iter().map(|&i| if up[i] { delta } else { -delta }).collect();
            Trajectory {
                start: x,
                moved: order,
                steps,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// The first points of the unscrambled sequence as `scipy.stats.qmc.Sobol(d,
    /// scramble=False)` gives them, times 2^32.
    #[test]
    fn sobol_matches_the_reference_implementation() {
        let expected: [[u64; 6]; 8] = [
            [0, 0, 0, 0, 0, 0],
            [2147483648, 2147483648, 2147483648, 2147483648, 2147483648, 2147483648],
            [3221225472, 1073741824, 1073741824, 1073741824, 3221225472, 3221225472],
            [1073741824, 3221225472, 3221225472, 3221225472, 1073741824, 1073741824],
            [1610612736, 1610612736, 2684354560, 3758096384, 1610612736, 536870912],
            [3758096384, 3758096384, 536870912, 1610612736, 3758096384, 2684354560],
            [2684354560, 536870912, 3758096384, 2684354560, 2684354560, 3758096384],
            [536870912, 2684354560, 1610612736, 536870912, 536870912, 1610612736],
        ];
        let points = Sobol::new(6).unwrap().points(8);
        for (point, row) in points.iter().zip(expected) {
            let scaled: Vec<u64> = point.iter().map(|x| (x * 4_294_967_296.0) as u64).collect();
            assert_eq!(scaled, row);
        }
        // Dimensions 61 and 100 (0-based 60 and 99), first 16 points.
        let expected_far: [[u64; 2]; 16] = [
            [0, 0],
            [2147483648, 2147483648],
            [1073741824, 3221225472],
            [3221225472, 1073741824],
            [536870912, 3758096384],
            [2684354560, 1610612736],
            [1610612736, 536870912],
            [3758096384, 2684354560],
            [2415919104, 4026531840],
            [268435456, 1879048192],
            [3489660928, 805306368],
            [1342177280, 2952790016],
            [2952790016, 268435456],
            [805306368, 2415919104],
            [4026531840, 3489660928],
            [1879048192, 1342177280],
        ];
        let points = Sobol::new(100).unwrap().points(16);
        for (point, row) in points.iter().zip(expected_far) {
            let scaled = [60, 99].map(|d| (point[d] * 4_294_967_296.0) as u64);
            assert_eq!(scaled, row);
        }
    }

    /// Points deep in the sequence at dimensions past the 128 this crate once compiled in,
    /// as `scipy.stats.qmc.Sobol(21201, scramble=False, bits=32)` gives them (its direction
    /// numbers are the same `new-joe-kuo-6.21201`), times 2^32: point index, then the
    /// values of the listed dimensions (0-based).
    #[test]
    fn far_dimensions_match_the_reference_implementation() {
        let dims = [128, 456, 913];
        let expected: [(usize, [u64; 3]); 4] = [
            (3, [3221225472, 1073741824, 1073741824]),
            (517, [482344960, 3284140032, 4013948928]),
            (1000, [3829399552, 2822766592, 2227175424]),
            (1028, [1105199104, 497025024, 1562378240]),
        ];
        let points = Sobol::new(914).unwrap().points(1029);
        for (i, row) in expected {
            assert_eq!(dims.map(|d| (points[i][d] * 4_294_967_296.0) as u64), row, "point {i}");
        }
        // The last dimensions, over fewer points (every point holds all 21,201 values).
        let dims = [5000, 21200];
        let expected: [(usize, [u64; 2]); 4] = [
            (1, [2147483648, 2147483648]),
            (37, [201326592, 1140850688]),
            (50, [1409286144, 1811939328]),
            (63, [2751463424, 469762048]),
        ];
        let points = Sobol::new(MAX_SOBOL_DIMENSIONS).unwrap().points(64);
        for (i, row) in expected {
            assert_eq!(dims.map(|d| (points[i][d] * 4_294_967_296.0) as u64), row, "point {i}");
        }
    }

    /// The first 128 dimensions' direction numbers are those of the table this crate
    /// compiled in before it took Joe and Kuo's whole set, so earlier designs (and every
    /// analysis of up to 64 parameters) are unchanged: an FNV-1a hash of all 32 direction
    /// numbers of each, dimension by dimension, computed from that table.
    #[test]
    fn the_first_128_dimensions_are_unchanged() {
        let directions = sobol::Sobol::<u32>::init_direction_vals::<u32>(128, 32, joe_kuo());
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for number in directions.iter().flatten() {
            for byte in number.to_le_bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        assert_eq!(hash, 0x31eb_5ff8_868c_61f7);
    }

    /// A (t, s)-sequence in base 2: the first 2^m points put exactly one point in each of the
    /// 2^m equal intervals of every coordinate, shifted or not; every dimension of the set.
    #[test]
    fn every_coordinate_is_stratified() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let sequence = Sobol::new(MAX_SOBOL_DIMENSIONS).unwrap().shifted(&mut rng);
        let n = 64;
        let points = sequence.points(n);
        for d in 0..MAX_SOBOL_DIMENSIONS {
            let mut seen = vec![false; n];
            for p in &points {
                let cell = (p[d] * n as f64) as usize;
                assert!(!seen[cell], "dimension {d}: two points in cell {cell}");
                seen[cell] = true;
            }
        }
    }

    #[test]
    fn too_many_dimensions_is_an_error() {
        assert!(Sobol::new(MAX_SOBOL_DIMENSIONS).is_ok());
        let error = Sobol::new(MAX_SOBOL_DIMENSIONS + 1).err().unwrap();
        assert_eq!(
            error.to_string(),
            "a Sobol' sequence of 21202 dimensions was asked for; Joe and Kuo's direction numbers give at most 21201"
        );
        assert!(Sobol::new(0).is_err());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!(Saltelli::new(MAX_SOBOL_PARAMETERS + 1, 4, &mut rng).is_err());
        assert_eq!(joe_kuo().max_dims, MAX_SOBOL_DIMENSIONS);
    }

    #[test]
    fn saltelli_matrices_share_columns_as_designed() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let design = Saltelli::new(3, 8, &mut rng).unwrap();
        let points = design.points();
        assert_eq!(points.len(), 8 * 5);
        for j in 0..8 {
            let ab1 = &points[8 * 3 + j];
            assert_eq!(ab1[0], design.a[j][0]);
            assert_eq!(ab1[1], design.b[j][1]);
            assert_eq!(ab1[2], design.a[j][2]);
        }
    }

    #[test]
    fn morris_trajectories_move_one_parameter_at_a_time_on_the_grid() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let k = 5;
        let levels = 4;
        for t in morris(k, 20, levels, &mut rng) {
            assert_eq!(t.points().len(), k + 1);
            let mut moved = t.moved.clone();
            moved.sort_unstable();
            assert_eq!(moved, (0..k).collect::<Vec<_>>());
            for (j, window) in t.points().windows(2).enumerate() {
                for (i, (after, before)) in window[1].iter().zip(&window[0]).enumerate() {
                    let change = after - before;
                    if i == t.moved[j] {
                        assert!((change.abs() - 2.0 / 3.0).abs() < 1e-12);
                        assert!((change - t.steps[j]).abs() < 1e-12);
                    } else {
                        assert_eq!(change, 0.0);
                    }
                }
                for &x in &window[1] {
                    let level = x * 3.0;
                    assert!((level - level.round()).abs() < 1e-9 && (-1e-12..=1.0 + 1e-12).contains(&x));
                }
            }
        }
    }
}
