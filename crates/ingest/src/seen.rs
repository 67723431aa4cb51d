//! The declaration ids seen so far in one file, for the duplicate check.
//!
//! A general hash map of a million ids (32-byte slots, a control byte each) is larger than the
//! CPU's last-level cache, so every row paid about two cache misses to probe it. Here a probe
//! touches one 8-byte slot: the top 32 bits of the id's 64-bit hash (a tag) and the index of the
//! id in an append-only arena. The slot's position is the top bits of the tag (as many as the
//! table has position bits), so the table is ordered by hash and doubles by walking its slots
//! in order (writes in sequence, no id read back from the arena). A tag match is never taken as
//! a duplicate on its own: the real ids are compared, so no false duplicate is reported and a
//! true duplicate is always found.
//!
//! The reader hashes a batch of ids read ahead and loads their slots together
//! ([`SeenIds::touch`]): the cache and TLB misses of the batch overlap instead of stalling one
//! row each.

/// Ids in insertion order (bytes in one arena) and an open-addressing table over them.
pub(crate) struct SeenIds<S = ahash::RandomState> {
    state: S,
    /// `tag << 32 | (entry + 1)`; 0 is an empty slot. Linear probing, at most half full.
    slots: Vec<u64>,
    /// `64 -` the number of position bits: a hash's home slot is `hash >> shift`.
    shift: u32,
    /// The ids' bytes, one after another.
    bytes: Vec<u8>,
    /// Per entry: the end of its id in `bytes` and the line it was first seen on.
    entries: Vec<(u64, u64)>,
    /// Ids beyond the 2^32 - 1 entries that a slot can index (a file of over four billion
    /// rows): kept in a general map so that the check still holds.
    overflow: ahash::AHashMap<Box<str>, u64>,
}

const FIRST_BITS: u32 = 12;
/// At most 2^31 entries, so the table (at most half full) has at most 2^32 slots and a slot's
/// 32-bit tag holds all of its position bits.
const MAX_ENTRIES: usize = 1 << 31;

impl SeenIds {
    pub(crate) fn new() -> Self {
        SeenIds::with_hasher(ahash::RandomState::new())
    }
}

impl<S: std::hash::BuildHasher> SeenIds<S> {
    fn with_hasher(state: S) -> Self {
        SeenIds {
            state,
            slots: vec![0; 1 << FIRST_BITS],
            shift: 64 - FIRST_BITS,
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

    /// The hash `insert` places `id` by.
    pub(crate) fn hash(&self, id: &str) -> u64 {
        self.state.hash_one(id.as_bytes())
    }

    /// Loads the slots where the probes of ids with these hashes start, all at once, so that
    /// their cache misses overlap with each other and the rows are built from cache (a hint
    /// only: [`SeenIds::insert`] hashes and probes again).
    pub(crate) fn touch(&self, hashes: &[u64]) {
        let mut sum = 0u64;
        for hash in hashes {
            sum = sum.wrapping_add(self.slots[(hash >> self.shift) as usize]);
        }
        std::hint::black_box(sum);
    }

    /// Records `id` as seen on `line`; if it was seen before, returns the line it was first
    /// seen on instead (and records nothing).
    pub(crate) fn insert(&mut self, id: &str, line: u64) -> Result<(), u64> {
        let hash = self.hash(id);
        let tag = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut at = (hash >> self.shift) as usize;
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

    /// Doubles the table. A slot's tag holds its hash's top 32 bits, so its new home is known
    /// without reading the id back; walking the old slots in order writes the new table in
    /// order.
    fn grow(&mut self) {
        let mut slots = vec![0u64; self.slots.len() * 2];
        let mask = slots.len() - 1;
        let shift = self.shift - 1;
        for &slot in self.slots.iter().filter(|&&slot| slot != 0) {
            let mut at = (slot >> shift) as usize;
            while slots[at] != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = slot;
        }
        self.slots = slots;
        self.shift = shift;
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

    /// Every id hashed to the same top 32 bits: all share the last slot as their home, so the
    /// cluster wraps around to the table's start, and the table doubles while it does.
    struct TopOnes;
    impl std::hash::BuildHasher for TopOnes {
        type Hasher = LowBits;
        fn build_hasher(&self) -> LowBits {
            LowBits(0x811c_9dc5)
        }
    }
    struct LowBits(u32);
    impl std::hash::Hasher for LowBits {
        fn finish(&self) -> u64 {
            0xffff_ffff_0000_0000 | u64::from(self.0)
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
        }
    }

    #[test]
    fn a_cluster_that_wraps_around_the_table_survives_doubling() {
        let mut seen = SeenIds::with_hasher(TopOnes);
        let n = 5000; // the table doubles twice (at 2,049 and 4,097 ids)
        for i in 0..n {
            assert_eq!(seen.insert(&format!("W{i}"), i + 2), Ok(()), "W{i} is new");
        }
        for i in [0, 1, 2048, 2049, 4096, 4097, n - 1] {
            assert_eq!(seen.insert(&format!("W{i}"), 0), Err(i + 2), "W{i}");
        }
        assert_eq!(seen.insert(&format!("W{n}"), 7), Ok(()));
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
