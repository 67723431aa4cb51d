//! The declaration ids seen so far in one file, for the duplicate check.
//!
//! A general hash map of a million ids (32-byte slots, a control byte each) is larger than the
//! CPU's last-level cache, so every row paid about two cache misses to probe it. Here a probe
//! touches one 8-byte slot: 32 bits of the id's 64-bit hash (a tag) and the index of the id in
//! an append-only arena. The slot's position comes from the other 32 bits, so two different ids
//! share a position and a tag with a chance of about 2^-64 per pair. A tag match is never taken
//! as a duplicate on its own: the real ids are compared, so no false duplicate is reported and
//! a true duplicate is always found.

/// Ids in insertion order (bytes in one arena) and an open-addressing table over them.
pub(crate) struct SeenIds<S = ahash::RandomState> {
    state: S,
    /// `tag << 32 | (entry + 1)`; 0 is an empty slot. Linear probing, at most half full.
    slots: Vec<u64>,
    /// The ids' bytes, one after another.
    bytes: Vec<u8>,
    /// Per entry: the end of its id in `bytes` and the line it was first seen on.
    entries: Vec<(u64, u64)>,
    /// Ids beyond the 2^32 - 1 entries that a slot can index (a file of over four billion
    /// rows): kept in a general map so that the check still holds.
    overflow: ahash::AHashMap<Box<str>, u64>,
}

const FIRST_SLOTS: usize = 1 << 12;
const MAX_ENTRIES: usize = u32::MAX as usize - 1;

impl SeenIds {
    pub(crate) fn new() -> Self {
        SeenIds::with_hasher(ahash::RandomState::new())
    }
}

impl<S: std::hash::BuildHasher> SeenIds<S> {
    fn with_hasher(state: S) -> Self {
        SeenIds {
            state,
            slots: vec![0; FIRST_SLOTS],
            bytes: Vec::new(),
            entries: Vec::new(),
            overflow: ahash::AHashMap::new(),
        }
    }

    fn id(&self, entry: usize) -> &[u8] {
        let start = match entry {
            0 => 0,
            e => self.entries[e - 1].0 as usize,
        };
        &self.bytes[start..self.entries[entry].0 as usize]
    }

    /// Loads the slot where `id`'s probe starts, so that the cache miss overlaps with the work
    /// on the rest of the row before [`SeenIds::insert`] (a hint only: `insert` hashes again).
    pub(crate) fn touch(&self, id: &str) {
        let hash = self.state.hash_one(id.as_bytes());
        std::hint::black_box(self.slots[hash as usize & (self.slots.len() - 1)]);
    }

    /// Records `id` as seen on `line`; if it was seen before, returns the line it was first
    /// seen on instead (and records nothing).
    pub(crate) fn insert(&mut self, id: &str, line: u64) -> Result<(), u64> {
        let hash = self.state.hash_one(id.as_bytes());
        let tag = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                break;
            }
            if slot >> 32 == tag {
                let entry = (slot as u32 - 1) as usize;
                if self.id(entry) == id.as_bytes() {
                    return Err(self.entries[entry].1);
                }
            }
            at = (at + 1) & mask;
        }
        if self.entries.len() >= MAX_ENTRIES {
            return match self.overflow.entry(id.into()) {
                std::collections::hash_map::Entry::Occupied(first) => Err(*first.get()),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(line);
                    Ok(())
                }
            };
        }
        let entry = self.entries.len();
        self.bytes.extend_from_slice(id.as_bytes());
        self.entries.push((self.bytes.len() as u64, line));
        self.slots[at] = tag << 32 | (entry as u64 + 1);
        if 2 * self.entries.len() > self.slots.len() {
            self.grow();
        }
        Ok(())
    }

    /// Doubles the table and places every entry again (its hash recomputed from the arena).
    fn grow(&mut self) {
        let mut slots = vec![0u64; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for entry in 0..self.entries.len() {
            let hash = self.state.hash_one(self.id(entry));
            let mut at = hash as usize & mask;
            while slots[at] != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = (hash >> 32) << 32 | (entry as u64 + 1);
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id hashed to the same position and tag: only the comparison of the real ids can
    /// tell them apart.
    struct Colliding;
    impl std::hash::BuildHasher for Colliding {
        type Hasher = Constant;
        fn build_hasher(&self) -> Constant {
            Constant
        }
    }
    struct Constant;
    impl std::hash::Hasher for Constant {
        fn finish(&self) -> u64 {
            0xdead_beef_0000_0007
        }
        fn write(&mut self, _: &[u8]) {}
    }

    #[test]
    fn a_duplicate_is_found_with_its_first_line_and_a_new_id_is_not() {
        let mut seen = SeenIds::new();
        for i in 0..100_000u64 {
            assert_eq!(seen.insert(&format!("D{i}"), i + 2), Ok(()));
        }
        assert_eq!(seen.insert("D77", 9), Err(79));
        assert_eq!(seen.insert("D0", 9), Err(2));
        assert_eq!(seen.insert("D99999", 9), Err(100_001));
        assert_eq!(seen.insert("D100000", 9), Ok(()));
        assert_eq!(seen.insert("", 10), Ok(()));
        assert_eq!(seen.insert("", 11), Err(10));
    }

    #[test]
    fn ids_whose_hashes_collide_are_compared_byte_for_byte() {
        let mut seen = SeenIds::with_hasher(Colliding);
        for (line, id) in ["A1", "A2", "A12", "A"].iter().enumerate() {
            assert_eq!(seen.insert(id, line as u64), Ok(()), "{id} is new");
        }
        assert_eq!(seen.insert("A12", 9), Err(2));
        assert_eq!(seen.insert("A", 9), Err(3));
        assert_eq!(seen.insert("A3", 9), Ok(()));
        assert_eq!(seen.insert("A1", 9), Err(0));
    }
}
