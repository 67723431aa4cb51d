//! Compact keys: cells are packed into a `u64` (no allocation, one hash lookup per level);
//! traders' own-history keys are 64-bit xxh3 hashes, so benchmark files store no raw party ids.

use serde::{Deserialize, Serialize};

/// Benchmark level, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Hs6Origin = 0,
    Hs6 = 1,
    Hs4 = 2,
    Hs2 = 3,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Hs6Origin, Level::Hs6, Level::Hs4, Level::Hs2];
    pub fn name(self) -> &'static str {
        match self {
            Level::Hs6Origin => "hs6_origin",
            Level::Hs6 => "hs6",
            Level::Hs4 => "hs4",
            Level::Hs2 => "hs2",
        }
    }
    fn digits(self) -> usize {
        match self {
            Level::Hs6Origin | Level::Hs6 => 6,
            Level::Hs4 => 4,
            Level::Hs2 => 2,
        }
    }
    fn from_bits(b: u64) -> Level {
        match b & 3 {
            0 => Level::Hs6Origin,
            1 => Level::Hs6,
            2 => Level::Hs4,
            _ => Level::Hs2,
        }
    }
}

/// What a unit value is per: kilogram of net mass, or one declared quantity unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Kg,
    Unit(String),
}

/// HS6 as a number (the 6 leading digits). `None` if not 6 ASCII digits.
pub fn hs6_number(hs: &str) -> Option<u32> {
    let b = hs.as_bytes();
    if b.len() < 6 {
        return None;
    }
    let mut n = 0u32;
    for &c in &b[..6] {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

/// Packs a cell: level (2 bits) | basis index (16) | origin index + 1 (16) | HS prefix (20).
pub fn cell_key(level: Level, hs6: u32, origin_idx: Option<u16>, basis_idx: u16) -> u64 {
    let hs = match level {
        Level::Hs6Origin | Level::Hs6 => hs6,
        Level::Hs4 => hs6 / 100,
        Level::Hs2 => hs6 / 10_000,
    } as u64;
    let origin = match level {
        Level::Hs6Origin => origin_idx.map_or(0, |o| o as u64 + 1),
        _ => 0,
    };
    ((level as u64) << 62) | ((basis_idx as u64) << 36) | (origin << 20) | hs
}

/// Unpacks a cell key into (level, HS prefix text, origin index, basis index).
pub fn decode_cell_key(key: u64) -> (Level, String, Option<u16>, u16) {
    let level = Level::from_bits(key >> 62);
    let hs = key & 0xF_FFFF;
    let origin = ((key >> 20) & 0xFFFF) as u16;
    let basis = ((key >> 36) & 0xFFFF) as u16;
    let text = format!("{:0width$}", hs, width = level.digits());
    (level, text, origin.checked_sub(1), basis)
}

/// 64-bit hash of a party id (importer or seller); computed once per check and combined with
/// the HS6 by [`attr_key`], so benchmark files store no raw party ids.
pub fn party_hash(party: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(party.as_bytes())
}

/// Key of one attribute value within one HS6 and basis: own-history groups (importer x HS6,
/// seller x HS6) and the product-evidence tallies (net mass, duty rate). A fixed 16-byte xxh3
/// input, so no allocation and one hash per lookup.
pub fn attr_key(tag: u8, hs6: u32, basis_idx: u16, value: u64) -> u64 {
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&value.to_le_bytes());
    buf[8..12].copy_from_slice(&hs6.to_le_bytes());
    buf[12..14].copy_from_slice(&basis_idx.to_le_bytes());
    buf[14] = tag;
    xxhash_rust::xxh3::xxh3_64(&buf)
}

/// Own-history key: a party (importer or seller) trading one HS6 on one basis.
pub fn party_key(tag: u8, party: &str, hs6: u32, basis_idx: u16) -> u64 {
    attr_key(tag, hs6, basis_idx, party_hash(party))
}

/// Exact net mass as an attribute value (repeated consignments of one product).
pub fn mass_value(mass: f64) -> u64 {
    mass.to_bits()
}

/// Duty rate as an attribute value (the tariff line's rate); `None` if unknown.
pub fn tax_value(rate: Option<f64>) -> Option<u64> {
    rate.filter(|r| r.is_finite())
        .map(|r| (r as f32).to_bits() as u64)
}

pub const TAG_IMPORTER: u8 = 1;
pub const TAG_SELLER: u8 = 2;
pub const TAG_MASS: u8 = 3;
pub const TAG_TAX: u8 = 4;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn cell_keys_round_trip() {
        for level in Level::ALL {
            let k = cell_key(level, 30617, Some(7), 2);
            let (l, hs, o, b) = decode_cell_key(k);
            assert_eq!(l, level);
            assert_eq!(b, 2);
            match level {
                Level::Hs6Origin => assert_eq!((hs.as_str(), o), ("030617", Some(7))),
                Level::Hs6 => assert_eq!((hs.as_str(), o), ("030617", None)),
                Level::Hs4 => assert_eq!(hs, "0306"),
                Level::Hs2 => assert_eq!(hs, "03"),
            }
        }
        assert_eq!(hs6_number("854140"), Some(854140));
        assert_eq!(hs6_number("85a140"), None);
    }
}
