//! An index from names to ids that stores only the 4-byte ids: the names live in the
//! records the ids point at (nodes, principals, grants), so each name is kept once. Names
//! are caller-chosen, so they hash with the process-keyed [`IdHasher`].

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::keyed_hash::IdHasher;

/// Ids (of one table: `I`) by name; every call passes `name_of`, which gives the name an
/// id stands for.
#[derive(Clone, Debug)]
pub(crate) struct NameIndex<I> {
    table: HashTable<I>,
    hasher: IdHasher,
}

impl<I> Default for NameIndex<I> {
    fn default() -> Self {
        NameIndex { table: HashTable::new(), hasher: IdHasher::default() }
    }
}

impl<I: Copy> NameIndex<I> {
    /// The id named `name`.
    #[inline]
    pub(crate) fn get<'a>(&self, name: &str, name_of: impl Fn(I) -> &'a str) -> Option<&I> {
        self.table.find(self.hasher.hash_one(name), |&id| name_of(id) == name)
    }

    /// Adds `id`, whose name (by `name_of`) must not be in the index yet.
    pub(crate) fn insert<'a>(&mut self, id: I, name_of: impl Fn(I) -> &'a str) {
        let hasher = &self.hasher;
        self.table.insert_unique(hasher.hash_one(name_of(id)), id, |&other| hasher.hash_one(name_of(other)));
    }

    /// Removes the id named `name`; returns it.
    pub(crate) fn remove<'a>(&mut self, name: &str, name_of: impl Fn(I) -> &'a str) -> Option<I> {
        match self.table.find_entry(self.hasher.hash_one(name), |&id| name_of(id) == name) {
            Ok(entry) => Some(entry.remove().0),
            Err(_) => None,
        }
    }

    /// Every id, in no order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = I> + '_ {
        self.table.iter().copied()
    }
}
