//! The one hash of the crate: 64-bit FNV-1a. It names things that must be stable on
//! every platform and in every Rust version (bootstrap streams, long folder names, the
//! resolved scenario of a shard) and checksums files (`part.bin`), which `std`'s hashers
//! do not promise. It detects damage, not tampering.

/// FNV-1a's starting value.
const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a's multiplier for 64 bits.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a::new()
    }
}

impl Fnv1a {
    pub const fn new() -> Fnv1a {
        Fnv1a(OFFSET)
    }

    /// Adds `bytes` to the hash.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0 = bytes
            .iter()
            .fold(self.0, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// The FNV-1a hash of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = Fnv1a::new();
    hash.update(bytes);
    hash.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        let mut split = Fnv1a::new();
        split.update(b"foo");
        split.update(b"bar");
        assert_eq!(split.finish(), fnv1a(b"foobar"));
    }
}
