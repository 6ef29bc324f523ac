//! A fixed-size bitset over a pack's permission indices: the compiled form of a role.

/// A set of permission indices `0..len`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermSet {
    words: Box<[u64]>,
}

impl PermSet {
    /// An empty set able to hold indices below `len`.
    pub fn empty(len: usize) -> Self {
        Self { words: vec![0; len.div_ceil(64)].into_boxed_slice() }
    }

    /// Adds `index`.
    pub fn insert(&mut self, index: usize) {
        if let Some(word) = self.words.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    /// Whether `index` is in the set.
    #[inline]
    pub fn contains(&self, index: usize) -> bool {
        self.words.get(index / 64).is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &PermSet) {
        for (mine, theirs) in self.words.iter_mut().zip(other.words.iter()) {
            *mine |= theirs;
        }
    }

    /// Whether every member of `self` is in `other`.
    pub fn is_subset(&self, other: &PermSet) -> bool {
        self.words.iter().zip(other.words.iter()).all(|(mine, theirs)| mine & !theirs == 0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|word| *word == 0)
    }

    /// The members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(|(w, &word)| (0..64).filter(move |bit| word & (1 << bit) != 0).map(move |bit| w * 64 + bit))
    }

    /// Heap bytes held by the set.
    pub fn heap_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::PermSet;

    #[test]
    fn insert_contains_and_subset_across_words() {
        let mut small = PermSet::empty(130);
        small.insert(3);
        small.insert(129);
        let mut big = small.clone();
        big.insert(64);
        assert!(small.contains(129) && !small.contains(64));
        assert!(small.is_subset(&big) && !big.is_subset(&small));
        assert_eq!(big.iter().collect::<Vec<_>>(), vec![3, 64, 129]);
        assert!(!small.contains(1000), "out of range is absent, not a panic");
    }
}
