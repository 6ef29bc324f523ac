//! The hash of every engine table keyed by a caller-chosen id (accounts, principals,
//! resources, groups, grants, custom roles): foldhash keyed with a secret drawn once per
//! process from the OS, so nobody can pick ids that all land in one bucket (hash flooding).
//!
//! foldhash is the fastest well-kept keyed hash on short strings (hashbrown's default);
//! its own random seed comes from address-space layout and the clock, so the key here is
//! taken from std's `RandomState` instead, which the OS seeds.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use foldhash::SharedSeed;
use foldhash::fast::{FoldHasher, SeedableRandomState};

/// The per-process key: a per-hasher seed and foldhash's shared seed, both from the OS.
fn process_key() -> &'static (u64, SharedSeed) {
    static KEY: OnceLock<(u64, SharedSeed)> = OnceLock::new();
    KEY.get_or_init(|| {
        // std's RandomState holds SipHash keys from the OS; hashing two constants with it
        // yields two secret 64-bit values.
        let os = std::collections::hash_map::RandomState::new();
        let draw = |salt: u64| os.hash_one(salt);
        (draw(1), SharedSeed::from_u64(draw(2)))
    })
}

/// Builds hashers keyed with the process key; every table of caller-chosen ids uses it.
#[derive(Clone, Debug)]
pub(crate) struct IdHasher(SeedableRandomState);

impl Default for IdHasher {
    #[inline]
    fn default() -> Self {
        let (per_hasher, shared) = process_key();
        IdHasher(SeedableRandomState::with_seed(*per_hasher, shared))
    }
}

impl BuildHasher for IdHasher {
    type Hasher = FoldHasher<'static>;

    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

/// A map keyed by caller-chosen ids.
pub(crate) type IdMap<K, V> = HashMap<K, V, IdHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_same_within_a_process() {
        let (a, b) = (IdHasher::default(), IdHasher::default());
        assert_eq!(a.hash_one("account-1"), b.hash_one("account-1"), "one key per process");
        assert_ne!(a.hash_one("account-1"), a.hash_one("account-2"));
    }

    #[test]
    fn the_key_is_not_a_fixed_seed() {
        let keyed = IdHasher::default().hash_one("account-1");
        let fixed = SeedableRandomState::fixed().hash_one("account-1");
        assert_ne!(keyed, fixed, "not foldhash's fixed seed");
        assert_ne!(keyed, rustc_hash::FxBuildHasher.hash_one("account-1"), "not the unkeyed Fx hash");
    }
}
