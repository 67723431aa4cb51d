//! End-to-end behaviour of the screening crate: parsers on malformed input, matches and hard
//! non-matches, graph paths on a crafted network, the Signal, and the bundled lists.

use borderline_core::{Declaration, HsCode, Signal};
use borderline_screening::loaders::{self, OfacFiles, Source};
use borderline_screening::network::{read_relationships, Relationship, SupplierNetwork};
use borderline_screening::{
    Entry, ListMeta, ListStore, MatchConfig, Matcher, PartyDirectory, PartyInfo, Query, Schema,
    ScreenedDirectory,
};
use std::sync::{Arc, OnceLock};

fn meta(key: &str) -> ListMeta {
    ListMeta {
        key: key.into(),
        title: key.into(),
        date: String::new(),
        source: "test".into(),
    }
}

fn src(name: &str, text: &str) -> Source {
    Source::from_bytes(name, text.as_bytes()).expect("plain text decodes")
}

#[test]
fn ofac_csv_reports_malformed_lines_and_keeps_the_rest() {
    let sdn = "36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\
               x7,\"BROKEN ROW\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\
               99\n\
               173,\"ANGLO-CARIBBEAN CO., LTD.\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Linked To: AEROCARIBBEAN AIRLINES.\"\n\x1a";
    let alt = "36,12,\"aka\",\"AERO-CARIBBEAN\",-0- \n555,13,\"aka\",\"ORPHAN ALIAS\",-0- \n";
    let add = "173,129,\"Ibex House, The Minories\",\"London EC3N 1DY\",\"United Kingdom\",-0- \n";
    let l = loaders::load_ofac(
        meta("sdn"),
        OfacFiles {
            primary: Some(src("sdn.csv", sdn)),
            alt: Some(src("alt.csv", alt)),
            add: Some(src("add.csv", add)),
            comments: None,
        },
    );
    assert_eq!(l.entries.len(), 2);
    let lines: Vec<(String, u64)> = l.issues.iter().map(|i| (i.file.clone(), i.line)).collect();
    assert!(lines.contains(&("sdn.csv".into(), 2)), "{:?}", l.issues);
    assert!(lines.contains(&("sdn.csv".into(), 3)), "{:?}", l.issues);
    assert!(lines.contains(&("alt.csv".into(), 2)), "{:?}", l.issues);
    let anglo = &l.entries[1];
    assert_eq!(anglo.schema, Schema::Company);
    assert_eq!(anglo.countries, vec!["GB".to_string()]);
    assert_eq!(anglo.linked_to, vec!["AEROCARIBBEAN AIRLINES".to_string()]);
    assert_eq!(l.entries[0].aliases, vec!["AERO-CARIBBEAN".to_string()]);
}

#[test]
fn latin1_ofac_files_decode() {
    let bytes =
        b"1,\"SOCI\xc9T\xc9 G\xc9N\xc9RALE\",-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
    let s = Source::from_bytes("sdn.csv", bytes).expect("latin-1 decodes");
    let l = loaders::load_ofac(
        meta("x"),
        OfacFiles {
            primary: Some(s),
            alt: None,
            add: None,
            comments: None,
        },
    );
    assert_eq!(l.entries[0].name, "SOCIÉTÉ GÉNÉRALE");
}

#[test]
fn un_xml_records_without_names_are_reported() {
    let xml = r#"<?xml version="1.0"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
<INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>ERIC</FIRST_NAME><SECOND_NAME>BADEGE</SECOND_NAME>
<UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>CDi.001</REFERENCE_NUMBER>
<NATIONALITY><VALUE>Democratic Republic of the Congo</VALUE></NATIONALITY>
<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Eric B &amp; Co</ALIAS_NAME></INDIVIDUAL_ALIAS>
</INDIVIDUAL>
<INDIVIDUAL><DATAID>2</DATAID><REFERENCE_NUMBER>CDi.002</REFERENCE_NUMBER></INDIVIDUAL>
</INDIVIDUALS>
<ENTITIES><ENTITY><DATAID>3</DATAID><FIRST_NAME>COMPAGNIE AERIENNE DES GRANDS LACS ; GREAT LAKES BUSINESS COMPANY</FIRST_NAME>
<REFERENCE_NUMBER>CDe.003</REFERENCE_NUMBER><ENTITY_ADDRESS><CITY>Gisenyi</CITY><COUNTRY>Rwanda</COUNTRY></ENTITY_ADDRESS></ENTITY></ENTITIES>
</CONSOLIDATED_LIST>"#;
    let l = loaders::load_un_xml(meta("un"), &src("un.xml", xml)).expect("well-formed XML");
    assert_eq!(l.meta.date, "2026-02-27");
    assert_eq!(l.entries.len(), 2);
    assert_eq!(l.entries[0].name, "ERIC BADEGE");
    assert_eq!(l.entries[0].aliases, vec!["Eric B & Co".to_string()]);
    assert_eq!(l.entries[0].countries, vec!["CD".to_string()]);
    assert_eq!(l.entries[1].name, "COMPAGNIE AERIENNE DES GRANDS LACS");
    assert_eq!(
        l.entries[1].aliases,
        vec!["GREAT LAKES BUSINESS COMPANY".to_string()]
    );
    assert_eq!(l.entries[1].countries, vec!["RW".to_string()]);
    assert_eq!(l.issues.len(), 1);
    assert_eq!(l.issues[0].line, 8, "{:?}", l.issues);
    // Broken XML is an error, not a panic.
    assert!(loaders::load_un_xml(meta("un"), &src("bad.xml", "<A><B></A>")).is_err());
}

#[test]
fn un_xml_names_the_line_of_every_nameless_record() {
    // Nameless records on lines 3, 4 and 7 (line 1 the declaration, 2 the list's start).
    let xml = "<?xml version=\"1.0\"?>\n<CONSOLIDATED_LIST dateGenerated=\"2026-02-27T00:00:09Z\"><INDIVIDUALS>\n\
        <INDIVIDUAL><DATAID>1</DATAID></INDIVIDUAL>\n\
        <INDIVIDUAL><DATAID>2</DATAID></INDIVIDUAL>\n\
        <INDIVIDUAL><DATAID>3</DATAID><FIRST_NAME>ERIC</FIRST_NAME></INDIVIDUAL>\n\
        \n\
        <INDIVIDUAL><DATAID>4</DATAID></INDIVIDUAL></INDIVIDUALS>\n</CONSOLIDATED_LIST>";
    let l = loaders::load_un_xml(meta("un"), &src("un.xml", xml)).expect("well-formed XML");
    assert_eq!(l.entries.len(), 1);
    let lines: Vec<u64> = l.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [3, 4, 7], "{:?}", l.issues);
}

#[test]
fn dpl_csl_and_simple_csv_report_bad_rows() {
    let dpl = "\"Name\"\t\"Street_Address\"\t\"City\"\t\"State\"\t\"Country\"\t\"Postal_Code\"\n\
               \"ACME EXPORTS\"\t\"1 MAIN ST\"\t\"EL PASO\"\t\"TX\"\t\"US\"\t\"79905\"\n\
               \"SHORT ROW\"\t\"X\"\n\
               \"\"\t\"\"\t\"\"\t\"\"\t\"\"\t\"\"\n";
    let l = loaders::load_bis_dpl(meta("dpl"), &src("dpl.txt", dpl)).expect("header present");
    assert_eq!(l.entries.len(), 1);
    assert_eq!(l.entries[0].countries, vec!["US".to_string()]);
    assert_eq!(l.issues.len(), 1);
    assert_eq!(l.issues[0].line, 3);

    let csl = "source,entity_number,type,programs,name,addresses,alt_names,nationalities\n\
               ISN,,Entity,INKSNA,183rd Guard Regiment,\"Moscow, RU\",Guard Regiment 183;GR-183,\n\
               ISN,,Entity,,,,,\n";
    let l = loaders::load_csl(meta("csl"), &src("csl.csv", csl)).expect("header present");
    assert_eq!(l.entries.len(), 1);
    assert_eq!(l.entries[0].aliases.len(), 2);
    assert_eq!(l.issues[0].line, 3);

    let simple = "id,name,schema,aliases,country,address\n\
                  U1,Xinjiang Example Cotton Co,company,XEC Cotton;XE Cotton,CN,Aksu\n\
                  U2,Bad Schema Co,spaceship,,,\n\
                  U3,Nowhere Co,company,,Atlantis,\n";
    let l =
        loaders::load_simple_csv(meta("uflpa"), &src("uflpa.csv", simple)).expect("header present");
    assert_eq!(l.entries.len(), 2);
    assert_eq!(l.entries[0].aliases.len(), 2);
    let lines: Vec<u64> = l.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, vec![3, 4]);
    // A file without a name column is unusable: an error.
    assert!(loaders::load_simple_csv(meta("x"), &src("x.csv", "id,title\n1,a\n")).is_err());
}

#[test]
fn replacing_a_list_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "name\nOld Co\n").expect("write");
    let mut store = ListStore::new();
    store
        .load_file(
            "uflpa",
            borderline_screening::ListFormat::SimpleCsv,
            &good,
            None,
        )
        .expect("loads");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "title\nNew Co\n").expect("write");
    assert!(store
        .load_file(
            "uflpa",
            borderline_screening::ListFormat::SimpleCsv,
            &bad,
            None
        )
        .is_err());
    assert_eq!(
        store
            .get("uflpa")
            .map(|l| l.entries[0].name.clone())
            .as_deref(),
        Some("Old Co")
    );
    std::fs::write(&bad, "name\nNew Co\nNewer Co\n").expect("write");
    store
        .load_file(
            "uflpa",
            borderline_screening::ListFormat::SimpleCsv,
            &bad,
            None,
        )
        .expect("loads");
    assert_eq!(store.get("uflpa").map(|l| l.entries.len()), Some(2));
}

fn company(list: &str, id: &str, name: &str, cc: &str) -> Entry {
    let mut e = Entry::new(list, id, Schema::Company, name);
    e.countries.push(cc.into());
    e
}

/// A small list plus filler names so token weights behave as on real lists.
fn crafted() -> Matcher {
    let mut es = vec![
        company("t", "1", "ROSNEFT TRADING S.A.", "CH"),
        company("t", "2", "NORTHERN STAR SHIPPING 11 LLC", "AE"),
        company("t", "3", "ALFA GLOBAL TRADING CO., LTD.", "CN"),
        company("t", "4", "ZHONGXING HANDELS GMBH", "DE"),
        Entry::new("t", "5", Schema::Person, "BADEGE, Eric"),
    ];
    let filler = [
        "GLOBAL",
        "TRADING",
        "SHIPPING",
        "STAR",
        "INTERNATIONAL",
        "GROUP",
    ];
    for (i, w) in filler.iter().enumerate() {
        for j in 0..30 {
            es.push(company(
                "f",
                &format!("{i}-{j}"),
                &format!("{w} FILLER{j} {}", ["LTD", "LLC", "SA"][j % 3]),
                "US",
            ));
        }
    }
    Matcher::from_entries(es, MatchConfig::default())
}

fn best(m: &Matcher, q: Query, id: &str) -> f64 {
    m.screen_with_threshold(&q, 0.0)
        .into_iter()
        .find(|h| h.list == "t" && h.entry_id == id)
        .map(|h| h.score)
        .unwrap_or(0.0)
}

#[test]
fn true_variants_match() {
    let m = crafted();
    let t = m.config.threshold;
    for v in [
        "Rosneft Trading SA",
        "ROSNEFT TRADNG S.A.",
        "SHIPPER: Rosneft Trading S.A.",
        "Blue Ocean Logistics Ltd c/o ROSNEFT TRADING S.A.",
        "TRADING ROSNEFT SA",
        "РОСНЕФТЬ ТРАДИНГ",
        "Rosneft Trading Limited Liability Company",
    ] {
        let s = best(&m, Query::name(v), "1");
        assert!(s >= t, "{v}: {s}");
    }
    assert!(best(&m, Query::name("Zhongxing Handels GmbH & Co. KG"), "4") >= t);
    assert!(best(&m, Query::name("Eric Badege").schema(Schema::Person), "5") >= t);
    assert!(best(&m, Query::name("ERIC BADEEGE").schema(Schema::Person), "5") >= t);
    // Hits carry the entry, list and an explanation of the tokens.
    let hits = m.screen(&Query::name("ROSNEFT TRADNG S.A."));
    let h = &hits[0];
    assert_eq!((h.list.as_str(), h.entry_id.as_str()), ("t", "1"));
    assert!(
        h.explanation.summary().contains("tradng~trading (1 edit)"),
        "{}",
        h.explanation.summary()
    );
}

#[test]
fn hard_non_matches_stay_below_threshold() {
    let m = crafted();
    let t = m.config.threshold;
    // Same words, other number.
    let (s, ex) = m.compare(
        "Northern Star Shipping 12 LLC",
        "NORTHERN STAR SHIPPING 11 LLC",
        Schema::Company,
    );
    assert!(s < t, "{s}");
    assert!(ex.summary().contains("numbers differ"), "{}", ex.summary());
    // Parent vs subsidiary in another country.
    let s = best(
        &m,
        Query::name("ROSNEFT TRADING (HONG KONG) LIMITED").country(Some("HK".into())),
        "1",
    );
    assert!(s < t, "{s}");
    // Common trade words only.
    let s = best(&m, Query::name("GLOBAL TRADING CO LTD"), "3");
    assert!(s < t, "{s}");
    // A person is not a company of the same words.
    assert!(best(&m, Query::name("Eric Badege").schema(Schema::Company), "5") == 0.0);
}

#[test]
fn country_is_evidence() {
    let m = crafted();
    let q = "Rosneft Trading SA";
    let same = best(&m, Query::name(q).country(Some("CH".into())), "1");
    let none = best(&m, Query::name(q), "1");
    let other = best(&m, Query::name(q).country(Some("BR".into())), "1");
    assert!(same >= none && none > other, "{same} {none} {other}");
}

fn decl(id: &str, importer: &str, seller: &str, declarant: &str) -> Declaration {
    Declaration {
        declaration_id: id.into(),
        date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("valid date"),
        office: "30".into(),
        declarant: declarant.into(),
        importer: importer.into(),
        seller: Some(seller.into()),
        courier: None,
        hs_code: HsCode::parse("520100").expect("valid hs"),
        origin_country: "CN".into(),
        departure_country: Some("CN".into()),
        transport_mode: "10".into(),
        process_type: "B".into(),
        import_type: "11".into(),
        import_use: "21".into(),
        payment_type: "11".into(),
        net_mass_kg: Some(100.0),
        customs_value: Some(1000.0),
        currency: "KRW".into(),
        tax_rate: Some(8.0),
        tax_type: "A".into(),
        origin_indicator: "G".into(),
        description: None,
        quantity: None,
        quantity_unit: None,
        outcome: None,
    }
}

#[test]
fn network_paths_on_a_crafted_graph() {
    let m = crafted();
    let mut net = SupplierNetwork::new();
    net.add_declaration(&decl("D1", "IMP1", "SEL1", "BRK"));
    net.add_declaration(&decl("D2", "IMP2", "SEL2", "BRK"));
    net.add_declaration(&decl("D3", "IMP3", "SEL3", "BRK2"));
    let (rels, issues) = read_relationships(
        "from,to,relation,source\nt:1,SEL1,owner,registry\nSEL3,party:MID,affiliate,\nMID,t:3,subsidiary,\n,x,owner,\nt:999,SEL2,owner,\n",
        "rels.csv",
    );
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].line, 5);
    let problems = net.add_relationships(Some(&m), &rels);
    assert_eq!(problems.len(), 1, "{problems:?}");
    // IMP1 -> SEL1 -> listed: two hops.
    let p = net.exposure(&[("importer", "IMP1")], 2);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].hops, 2);
    assert_eq!(p[0].listed, "t:1");
    assert_eq!(
        p[0].relations,
        vec!["trade".to_string(), "owner".to_string()]
    );
    assert!(net.exposure(&[("importer", "IMP1")], 1).is_empty());
    // IMP2 shares only a customs broker with IMP1: brokers do not carry exposure.
    assert!(net.exposure(&[("importer", "IMP2")], 4).is_empty());
    // IMP3 -> SEL3 -> MID -> listed: three hops.
    assert!(net.exposure(&[("importer", "IMP3")], 2).is_empty());
    let p = net.exposure(&[("importer", "IMP3")], 3);
    assert_eq!(p[0].hops, 3);
    assert!(
        p[0].describe().contains("--subsidiary-->"),
        "{}",
        p[0].describe()
    );
    let g = net.to_graphml();
    assert!(g.contains("<edge source=\"t:1\"") || g.contains("target=\"t:1\""));
    assert_eq!(
        net.to_json()["edges"].as_array().map(|a| a.len()),
        Some(net.edge_count())
    );
}

#[test]
fn signal_gives_features_and_reasons() {
    let m = Arc::new(crafted());
    let mut dir = PartyDirectory::new();
    dir.insert(
        "SEL1",
        PartyInfo {
            name: "Rosneft Tradng S.A.".into(),
            address: Some("Baarerstrasse 1, Zug".into()),
            country: Some("CH".into()),
            schema: Schema::Company,
        },
    );
    dir.insert(
        "IMP1",
        PartyInfo {
            name: "Blue Harbor Foods Ltd".into(),
            address: Some("Seoul".into()),
            country: Some("KR".into()),
            schema: Schema::Company,
        },
    );
    dir.insert(
        "SEL2",
        PartyInfo {
            name: "Sunny Cotton Ltd".into(),
            address: Some("18 Renmin Road, Hetian".into()),
            country: Some("CN".into()),
            schema: Schema::Company,
        },
    );
    let decls = vec![
        decl("D1", "IMP1", "SEL1", "BRK"),
        decl("D2", "IMP1", "SEL2", "BRK"),
    ];
    let rels: Vec<Relationship> = Vec::new();
    let (sig, _net, problems) = borderline_screening::build_signal(&decls, m, dir, &rels, 2);
    assert!(problems.is_empty());
    let defs = sig.feature_defs();
    let mut out = vec![0.0f32; defs.len()];
    sig.features(&decls[0], &mut out);
    assert!(out[1] >= 0.85, "seller score {out:?}");
    assert!(out[0] < 0.6, "importer score {out:?}");
    assert!(out[2].is_nan(), "declarant not in directory");
    assert_eq!(out[5], 0.0, "no Xinjiang address");
    assert_eq!(out[6], 1.0, "the seller itself matches: one hop");
    let r = sig.reasons(&decls[0]);
    assert!(r.iter().any(|r| r.code == "screening:t:1"), "{r:?}");
    assert!(r.iter().any(|r| r.code == "network:t:1"), "{r:?}");
    sig.features(&decls[1], &mut out);
    assert_eq!(out[5], 1.0);
    let r = sig.reasons(&decls[1]);
    assert!(
        r.iter()
            .any(|r| r.code == "screening:uflpa_region" && r.text.contains("Hotan")),
        "{r:?}"
    );
}

/// A directory is screened once, when its `ScreenedDirectory` is built: the signal and network
/// of every later batch over it screen no party again (the matcher's query count stays), and
/// give the features, reasons and paths of a signal built from scratch for that batch.
#[test]
fn a_screened_directory_is_shared_by_every_batch_without_screening_again() {
    let m = Arc::new(crafted());
    let mut dir = PartyDirectory::new();
    for (id, name, address, country) in [
        ("SEL1", "Rosneft Tradng S.A.", "Baarerstrasse 1, Zug", "CH"),
        ("IMP1", "Blue Harbor Foods Ltd", "Seoul", "KR"),
        ("SEL2", "Sunny Cotton Ltd", "18 Renmin Road, Hetian", "CN"),
    ] {
        dir.insert(
            id,
            PartyInfo {
                name: name.into(),
                address: Some(address.into()),
                country: Some(country.into()),
                schema: Schema::Company,
            },
        );
    }
    let rels = vec![Relationship {
        from: "IMP2".into(),
        to: "SEL1".into(),
        relation: "owner".into(),
        source: "test".into(),
    }];
    let before = m.queries_screened();
    let screened = Arc::new(ScreenedDirectory::new(m.clone(), dir.clone()));
    assert_eq!(m.queries_screened() - before, 3, "one query per party");
    let batches = [
        vec![decl("D1", "IMP1", "SEL1", "BRK")],
        vec![
            decl("D2", "IMP1", "SEL2", "BRK"),
            decl("D3", "IMP2", "SEL9", "BRK"),
        ],
    ];
    for batch in &batches {
        let queries = m.queries_screened();
        let (shared, net, problems) =
            borderline_screening::build_screened_signal(batch, screened.clone(), &rels, 2);
        assert_eq!(
            m.queries_screened(),
            queries,
            "a batch screened parties again"
        );
        assert!(Arc::ptr_eq(shared.screened(), &screened));
        let (fresh, fresh_net, fresh_problems) =
            borderline_screening::build_signal(batch, m.clone(), dir.clone(), &rels, 2);
        assert_eq!(problems, fresh_problems);
        assert_eq!(
            (net.node_count(), net.edge_count()),
            (fresh_net.node_count(), fresh_net.edge_count())
        );
        let n = shared.feature_defs().len();
        for d in batch {
            let (mut a, mut b) = (vec![0f32; n], vec![0f32; n]);
            shared.features(d, &mut a);
            fresh.features(d, &mut b);
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
            assert_eq!(shared.reasons(d), fresh.reasons(d));
            assert_eq!(
                format!("{:?}", shared.exposure(d)),
                format!("{:?}", fresh.exposure(d))
            );
        }
    }
    let r = borderline_screening::build_screened_signal(&batches[1], screened, &rels, 2)
        .0
        .reasons(&batches[1][1]);
    assert!(
        r.iter().any(|r| r.code == "network:t:1"),
        "IMP2 owns the matching SEL1: {r:?}"
    );
}

/// The same entry published in two lists (an OFAC entry and its 2025 alias list, say) scores
/// the same in both: such hits come in one order, by list, whatever order the lists were
/// loaded in and whatever the hash seeds of the process. An auditor who screens a name again
/// gets the same output.
#[test]
fn equal_scores_come_in_one_order_whatever_the_load_order() {
    let orders = [["b_list", "a_list"], ["a_list", "b_list"]];
    for (round, lists) in orders.iter().cycle().take(8).enumerate() {
        let mut es: Vec<Entry> = lists
            .iter()
            .map(|l| company(l, "7", "ORIENT TRADING LLC", "AE"))
            .collect();
        for j in 0..20 {
            es.push(company(
                "f",
                &format!("{j}"),
                &format!("FILLER{j} SHIPPING SA"),
                "US",
            ));
        }
        let m = Matcher::from_entries(es, MatchConfig::default());
        let hits = m.screen_with_threshold(&Query::name("Orient Trading"), 0.0);
        let tied: Vec<(&str, &str)> = hits
            .iter()
            .filter(|h| h.entry_id == "7")
            .map(|h| (h.list.as_str(), h.entry_id.as_str()))
            .collect();
        assert_eq!(
            tied,
            [("a_list", "7"), ("b_list", "7")],
            "round {round}, lists loaded as {lists:?}"
        );
        assert_eq!(hits[0].score, hits[1].score, "the two hits tie");
    }
}

fn bundled() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        Matcher::build(
            &ListStore::bundled().expect("bundled lists load"),
            MatchConfig::default(),
        )
    })
}

#[test]
fn bundled_lists_load_with_documented_counts() {
    let store = ListStore::bundled().expect("bundled lists load");
    let count = |k: &str| store.get(k).map(|l| l.entries.len()).unwrap_or(0);
    // Counts from data/watchlists/README.md (taken from the source description).
    assert_eq!(count("ofac_sdn"), 8976);
    assert_eq!(count("un"), 1003);
    assert_eq!(count("bis_dpl"), 581);
    assert_eq!(count("ofac_cons"), 442);
    assert_eq!(count("ofac_sdn_2025_aliases"), 8653);
    assert_eq!(count("trade_gov_csl_sample"), 115);
    assert_eq!(
        store
            .get("ofac_sdn")
            .map(|l| l.entries.iter().map(|e| e.aliases.len()).sum::<usize>()),
        Some(11910)
    );
    for l in store.lists() {
        assert!(
            l.issues.is_empty(),
            "{}: {:?}",
            l.meta.key,
            &l.issues[..l.issues.len().min(3)]
        );
    }
}

#[test]
fn bundled_lists_screen_real_names() {
    let m = bundled();
    let hits = m.screen(&Query::name("Banco Nacional de Cuba"));
    assert_eq!(
        hits.first().map(|h| (h.list.as_str(), h.entry_id.as_str())),
        Some(("ofac_sdn", "306"))
    );
    let hits = m.screen(&Query::name("ANGLO CARIBBEAN COMPANY LIMITED"));
    assert!(hits.iter().any(|h| h.entry_id == "173"), "{hits:?}");
    // Vessels: M/V prefixes are noise.
    let vessel = m
        .entries()
        .iter()
        .find(|e| e.schema == Schema::Vessel)
        .map(|e| e.name.clone());
    if let Some(v) = vessel {
        let hits = m.screen(&Query::name(format!("M/V {v}")).schema(Schema::Vessel));
        assert!(hits.iter().any(|h| h.entry_name == v), "{v}: {hits:?}");
    }
}

#[test]
fn odd_input_never_panics() {
    let m = crafted();
    let long = "INTERNATIONAL ".repeat(40);
    for q in [
        "",
        "   ",
        "c/o",
        "SHIPPER:",
        "🚢🚢 ACME",
        "a\u{0301}\u{0301}\u{0301}",
        "שלום עולם",
        "ＡＣＭＥ　ＴＲＡＤＩＮＧ",
        "12345 67890",
        "---///...",
        long.as_str(),
        "ROSNEFTTRADINGSAROSNEFTTRADINGSAROSNEFTTRADINGSAROSNEFTTRADINGSAROSNEFTTRADINGSA",
    ] {
        for schema in [Schema::Unknown, Schema::Person, Schema::Vessel] {
            let hits = m.screen(&Query::name(q).schema(schema).address(Some(q.to_string())));
            for h in hits {
                assert!((0.0..=1.0).contains(&h.score), "{q}: {}", h.score);
            }
            let (s, _) = m.compare(q, "ROSNEFT TRADING S.A.", schema);
            assert!((0.0..=1.0).contains(&s));
        }
        let _ = borderline_screening::xinjiang_flag(q, Some("CN"));
    }
}

fn person(id: &str, name: &str, years: &[(u16, u16)]) -> Entry {
    let mut e = Entry::new("p", id, Schema::Person, name);
    e.birth_years = years.to_vec();
    e
}

/// Listed people plus filler people, so that common name tokens have realistic weights.
fn people() -> Matcher {
    let mut es = vec![
        person("1", "ZHANG, Wei", &[(1961, 1961)]),
        person("2", "YU, Jianjun", &[]),
        person("3", "LIA", &[]),
        person("4", "AKHUND, Mohammad Hasan", &[(1955, 1958)]),
        person("5", "ZHONG, Lei", &[]),
        person("6", "AREFULLAH AREF", &[]),
        person("7", "OMAR, Mohammad Hasan Akhund", &[]),
    ];
    let filler = [
        "WANG", "LI", "CHEN", "ZHONG", "ZHANG", "MOHAMMAD", "KUN", "JIAN",
    ];
    for (i, w) in filler.iter().enumerate() {
        for j in 0..20 {
            es.push(person(
                &format!("f{i}-{j}"),
                &format!("{w}, Filler{j}"),
                &[],
            ));
        }
    }
    Matcher::from_entries(es, MatchConfig::default())
}

fn best_person(m: &Matcher, q: Query, id: &str) -> f64 {
    m.screen_with_threshold(&q.schema(Schema::Person), 0.0)
        .into_iter()
        .find(|h| h.list == "p" && h.entry_id == id)
        .map(|h| h.score)
        .unwrap_or(0.0)
}

#[test]
fn person_rules_reject_other_names_and_keep_typos() {
    let m = people();
    let t = m.config.threshold;
    // Same name, any order, with a typo in a long token: a hit.
    assert!(best_person(&m, Query::name("Wei Zhang"), "1") >= t);
    assert!(best_person(&m, Query::name("Mohammad Hasan Akhund"), "4") >= t);
    assert!(best_person(&m, Query::name("Mohammad Hasan Akhnud"), "4") >= t);
    // A word boundary moved: the letter-level comparison still finds it.
    assert!(best_person(&m, Query::name("AREFULLAHA REF"), "6") >= t);
    // Two romanised Chinese syllables are different names, not a typo ("Zhong" / "Zhang")...
    let s = best_person(&m, Query::name("Wei Zhong"), "1");
    assert!(s < t, "zhong is not zhang: {s}");
    // ...while vowels of transliterated Arabic names vary for the same name.
    assert!(best_person(&m, Query::name("Mohammad Hassan Akhund"), "4") >= t);
    assert!(best_person(&m, Query::name("Muhammad Hasan Akhond"), "4") >= t);
    assert!(best_person(&m, Query::name("Mohammad Hasan Akhund Umar"), "7") >= t);
    // Syllables of a given name joined with an edit make another given name.
    let s = best_person(&m, Query::name("Jian Kun Yu"), "2");
    assert!(s < t, "jian kun is not jianjun: {s}");
    assert!(best_person(&m, Query::name("Jian Jun Yu"), "2") >= t);
    // One shared token is not a person match; "Sá" is a name here, not a legal form (S.A.).
    let s = best_person(&m, Query::name("Lia Sá"), "3");
    assert!(s < t, "one token of two: {s}");
    assert!(best_person(&m, Query::name("Lia"), "3") >= t);
}

#[test]
fn year_of_birth_is_evidence_for_people() {
    let m = people();
    let t = m.config.threshold;
    let q = |dob: Option<&str>| Query::name("Zhang Wei").birth_date(dob.map(String::from));
    let none = best_person(&m, q(None), "1");
    let same = best_person(&m, q(Some("1961-05-02")), "1");
    let near = best_person(&m, q(Some("1962")), "1");
    let other = best_person(&m, q(Some("1990-01-01")), "1");
    assert!(
        none >= t && same >= none && near >= none,
        "{none} {same} {near}"
    );
    assert!(other < t, "a homonym born 29 years later: {other}");
    // A range on the list ("1955 to 1958") and an entry without years.
    assert!(
        best_person(
            &m,
            Query::name("Mohammad Hasan Akhund").birth_date(Some("1957".into())),
            "4"
        ) >= t
    );
    let s = best_person(
        &m,
        Query::name("Mohammad Hasan Akhund").birth_date(Some("1980".into())),
        "4",
    );
    assert!(s < t, "{s}");
    let s = best_person(
        &m,
        Query::name("Lei Zhong").birth_date(Some("1980".into())),
        "5",
    );
    assert!(s >= t, "no years on the list: no evidence either way ({s})");
    // Companies never use it.
    let c = m.screen_with_threshold(
        &Query::name("Zhang Wei")
            .schema(Schema::Company)
            .birth_date(Some("1990".into())),
        0.0,
    );
    assert!(
        c.iter().all(|h| h.entry_id != "1"),
        "company query vs person entry"
    );
}

#[test]
fn bundled_people_carry_years_of_birth_and_types() {
    let m = bundled();
    let find = |list: &str, id: &str| {
        m.entries()
            .iter()
            .find(|e| e.list == list && e.id == id)
            .cloned()
    };
    // UN XML: INDIVIDUAL_DATE_OF_BIRTH; OFAC: "DOB ..." remarks.
    let un = find("un", "IQi.036").expect("UN entry IQi.036");
    assert!(!un.birth_years.is_empty(), "{un:?}");
    let sdn = find("ofac_sdn", "2674").expect("SDN entry 2674");
    assert_eq!(sdn.birth_years, vec![(1948, 1948)]);
    // The alias-only 2025 SDN takes type and years from the complete 2021 file by entry number.
    let a = find("ofac_sdn_2025_aliases", "2674").expect("2025 alias entry 2674");
    assert_eq!(
        (a.schema, a.birth_years.clone()),
        (Schema::Person, vec![(1948, 1948)])
    );
}

#[test]
fn exact_name_is_retrieved_among_many_relatives() {
    // The Tikriti family fills dozens of entries whose rarer spelling variants ("hasan") used to
    // outweigh the exact token ("hassan") in retrieval and crowd the exact name out.
    let m = bundled();
    let hits = m.screen(&Query::name("SAB'AWI IBRAHIM HASSAN AL-TIKRITI").schema(Schema::Person));
    assert!(
        hits.iter()
            .any(|h| h.list == "un" && h.entry_id == "IQi.036"),
        "{:?}",
        hits.iter()
            .map(|h| (&h.list, &h.entry_id, h.score))
            .collect::<Vec<_>>()
    );
}

/// Distinct pseudo-random words of 5 to 12 letters, `n` of them, as one name: every word is a
/// fresh lookup (no cache hit), the worst case for fuzzy retrieval per character.
fn word_salad(n: usize, seed: u64) -> String {
    let mut x = seed | 1;
    let mut out = String::new();
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = 5 + (x % 8) as usize;
        if !out.is_empty() {
            out.push(' ');
        }
        for k in 0..len {
            out.push((b'a' + ((x >> (5 * k)) % 26) as u8) as char);
        }
    }
    out
}

/// Issue 14: screening a 400,000-character name took 13 times as long as a 100,000-character
/// one. The work of fuzzy retrieval (index probes, counted per thread) now grows with the
/// name's length, not its square: a single token of any length costs no probe beyond the
/// `MAX_FUZZY_TOKEN_BYTES` bound, and four times the words cost at most four times the probes.
#[test]
fn issue_14_screening_work_is_linear_in_the_name_length() {
    let m = crafted();
    let probes = |name: &str| {
        let before = borderline_screening::fuzzy_probes();
        let _ = m.screen(&Query::name(name));
        borderline_screening::fuzzy_probes() - before
    };
    // One long token: matched exactly only, whatever its length (was one deletion per letter,
    // each a copy of the token).
    for len in [100_000, 400_000] {
        let token: String = (0..len).map(|i| (b'a' + (i % 23) as u8) as char).collect();
        assert_eq!(probes(&token), 0, "a {len}-letter token");
    }
    // A token at the bound still gets fuzzy retrieval (one probe per letter, plus one).
    let at_bound: String = "rosneftx".repeat(borderline_screening::MAX_FUZZY_TOKEN_BYTES / 8);
    assert_eq!(
        probes(&at_bound),
        borderline_screening::MAX_FUZZY_TOKEN_BYTES as u64 + 1
    );
    // Many words: probes proportional to the characters.
    let (short, long) = (word_salad(10_000, 7), word_salad(40_000, 11));
    let (ps, pl) = (probes(&short), probes(&long));
    assert!(ps > 0);
    let per_char = |p: u64, s: &str| p as f64 / s.len() as f64;
    let ratio = per_char(pl, &long) / per_char(ps, &short);
    assert!(
        (0.8..1.25).contains(&ratio),
        "probes per character: {} for {} chars, {} for {} chars",
        per_char(ps, &short),
        short.len(),
        per_char(pl, &long),
        long.len()
    );
}

/// A party tied to a listed entry by a relationship row (one link, not a name match) gets the
/// network reason on its own declaration, not only its trade partners two links away; a party
/// whose only path is its own name match gets the watchlist reason and no network reason.
#[test]
fn a_party_owned_by_a_listed_entity_gets_the_network_reason() {
    let m = Arc::new(crafted());
    let mut dir = PartyDirectory::new();
    dir.insert(
        "SEL1",
        PartyInfo {
            name: "Rosneft Tradng S.A.".into(),
            address: None,
            country: Some("CH".into()),
            schema: Schema::Company,
        },
    );
    let decls = vec![
        decl("D1", "OWNED", "NOBODY", "BRK"),
        decl("D2", "IMP2", "SEL1", "BRK"),
    ];
    let (rels, _) = read_relationships("from,to,relation\nt:3,OWNED,owner\n", "rels.csv");
    let (sig, _net, problems) = borderline_screening::build_signal(&decls, m, dir, &rels, 2);
    assert!(problems.is_empty(), "{problems:?}");
    let r = sig.reasons(&decls[0]);
    // OWNED's own path (one link), then its seller's through it (two).
    let owned: Vec<&str> = r.iter().map(|r| r.text.as_str()).collect();
    assert!(r.iter().all(|r| r.code == "network:t:3"), "{r:?}");
    assert_eq!(owned.len(), 2, "{owned:?}");
    assert!(
        owned[0].starts_with("supplier network: importer OWNED --owner-->")
            && owned[0].ends_with("1 hop]"),
        "{owned:?}"
    );
    // SEL1's own name match is a watchlist reason; only IMP2's two-link path is a network one.
    let r = sig.reasons(&decls[1]);
    assert!(r.iter().any(|r| r.code == "screening:t:1"), "{r:?}");
    let paths: Vec<&str> = r
        .iter()
        .filter(|r| r.code.starts_with("network:"))
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(
        paths[0].starts_with("supplier network: importer IMP2"),
        "{paths:?}"
    );
}
