//! The watchlists shipped in `data/watchlists/` (gzip), compiled into the binary so screening
//! needs no network and no data directory at run time. Dates and provenance: see
//! `data/watchlists/README.md`.

use crate::error::Result;
use crate::loaders::{self, OfacFiles, Source};
use crate::model::{ListMeta, WatchList};

macro_rules! bundled {
    ($path:literal) => {
        (
            concat!("data/watchlists/", $path),
            include_bytes!(concat!("../../../data/watchlists/", $path)).as_slice(),
        )
    };
}

fn src(file: (&str, &[u8])) -> Result<Source> {
    Source::from_bytes(file.0, file.1)
}

fn meta(key: &str, title: &str, date: &str, source: &str) -> ListMeta {
    ListMeta {
        key: key.into(),
        title: title.into(),
        date: date.into(),
        source: source.into(),
    }
}

/// Parses every bundled list.
pub fn load_all() -> Result<Vec<WatchList>> {
    let out = vec![
    loaders::load_ofac(
        meta(
            "ofac_sdn",
            "OFAC Specially Designated Nationals (complete, legacy CSV)",
            "2021-07-07",
            "data/watchlists/ofac_sdn_2021-07",
        ),
        OfacFiles {
            primary: Some(src(bundled!("ofac_sdn_2021-07/sdn.csv.gz"))?),
            alt: Some(src(bundled!("ofac_sdn_2021-07/alt.csv.gz"))?),
            add: Some(src(bundled!("ofac_sdn_2021-07/add.csv.gz"))?),
            comments: Some(src(bundled!("ofac_sdn_2021-07/sdn_comments.csv.gz"))?),
        },
    ),
    loaders::load_ofac(
        meta("ofac_sdn_2025_aliases", "OFAC SDN aliases and addresses only (primary names not available; first alias stands in)", "2025-12-24", "data/watchlists/ofac_sdn_2025-12_alt_add_only"),
        OfacFiles {
            primary: None,
            alt: Some(src(bundled!("ofac_sdn_2025-12_alt_add_only/alt.csv.gz"))?),
            add: Some(src(bundled!("ofac_sdn_2025-12_alt_add_only/add.csv.gz"))?),
            comments: Some(src(bundled!("ofac_sdn_2025-12_alt_add_only/sdn_comments.csv.gz"))?),
        },
    ),
    loaders::load_ofac(
        meta(
            "ofac_cons",
            "OFAC Consolidated (non-SDN) list",
            "2025-12-19",
            "data/watchlists/ofac_consolidated_nonsdn_2025-12",
        ),
        OfacFiles {
            primary: Some(src(bundled!(
                "ofac_consolidated_nonsdn_2025-12/cons_prim.csv.gz"
            ))?),
            alt: Some(src(bundled!(
                "ofac_consolidated_nonsdn_2025-12/cons_alt.csv.gz"
            ))?),
            add: Some(src(bundled!(
                "ofac_consolidated_nonsdn_2025-12/cons_add.csv.gz"
            ))?),
            comments: Some(src(bundled!(
                "ofac_consolidated_nonsdn_2025-12/cons_comments.csv.gz"
            ))?),
        },
    ),
    loaders::load_un_xml(
        meta(
            "un",
            "UN Security Council Consolidated List",
            "",
            "data/watchlists/un_consolidated_2026-02",
        ),
        &src(bundled!("un_consolidated_2026-02/UN_consolidated.xml.gz"))?,
    )?,
    loaders::load_bis_dpl(
        meta(
            "bis_dpl",
            "BIS Denied Persons List",
            "2022-09-07",
            "data/watchlists/bis_dpl_2022-09",
        ),
        &src(bundled!("bis_dpl_2022-09/dpl.txt.gz"))?,
    )?,
    loaders::load_csl(
        meta(
            "trade_gov_csl_sample",
            "trade.gov Consolidated Screening List (115-row 2019 sample, not the full list)",
            "2019-12-03",
            "data/watchlists/trade_gov_csl_sample_2019",
        ),
        &src(bundled!("trade_gov_csl_sample_2019/csl.csv.gz"))?,
    )?,
    ];
    let mut out = out;
    fill_from_complete_sdn(&mut out);
    Ok(out)
}

/// The Dec-2025 SDN is bundled without its primary file, so its entries have no type and no
/// remarks. OFAC entry numbers are stable across releases: an entry also in the complete 2021
/// SDN takes that entry's type, years of birth and countries (when it has none), so person rules
/// and date-of-birth evidence apply to it too. Entries listed after 2021 stay as they are.
fn fill_from_complete_sdn(lists: &mut [WatchList]) {
    use crate::model::Schema;
    use std::collections::HashMap;
    let Some(full) = lists.iter().find(|l| l.meta.key == "ofac_sdn") else {
        return;
    };
    // Owned copies: the lists are modified below.
    let by_id: HashMap<String, crate::model::Entry> = full
        .entries
        .iter()
        .map(|e| (e.id.clone(), e.clone()))
        .collect();
    for l in lists
        .iter_mut()
        .filter(|l| l.meta.key == "ofac_sdn_2025_aliases")
    {
        for e in &mut l.entries {
            let Some(old) = by_id.get(&e.id) else {
                continue;
            };
            if e.schema == Schema::Unknown {
                e.schema = old.schema;
            }
            for &(lo, hi) in &old.birth_years {
                e.add_birth_years(lo, hi);
            }
            if e.countries.is_empty() {
                e.countries = old.countries.clone();
            }
        }
    }
}
