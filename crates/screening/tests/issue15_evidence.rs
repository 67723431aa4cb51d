//! Issue 15, third round: company evidence of the calibrated score (legal forms of other
//! jurisdictions, numbers on one side, rarity of the shared words) and foreign names written in
//! Hangul, Han characters or katakana. Specifications on names written for these tests or, for
//! the scripts, common names of the development (not held-aside) part.

mod common;

use borderline_screening::{Entry, MatchConfig, Matcher, Schema};

/// Company names plus filler, so that generic words are common and the names' own words rare,
/// as on real lists.
fn matcher() -> Matcher {
    let mut es = vec![
        Entry::new("t", "1", Schema::Company, "ZEPHYRANT HANDELS GMBH"),
        Entry::new("t", "2", Schema::Vessel, "MARIE DE LOURDES"),
        Entry::new("t", "3", Schema::Company, "QUORVEX TRADING LTD"),
        Entry::new("t", "4", Schema::Person, "WASHINGTON, George"),
    ];
    let generic = [
        "GLOBAL", "TRADING", "SHIPPING", "STAR", "GROUP", "MARIE", "LTD",
    ];
    es.extend(common::common_company_words(&generic, 60));
    Matcher::from_entries(es, MatchConfig::default())
}

fn score(m: &Matcher, a: &str, b: &str, schema: Schema) -> f64 {
    m.compare(a, b, schema).0
}

/// Class "legal forms are incomplete": a German GmbH and a Hungarian Kft. with the same name
/// are two legal entities: the pair scores below the same name with the same form, and says why.
#[test]
fn gmbh_and_kft_with_the_same_stem_is_not_a_strong_match() {
    let m = matcher();
    let same = score(
        &m,
        "ZEPHYRANT HANDELS GMBH",
        "ZEPHYRANT HANDELS GMBH",
        Schema::Company,
    );
    let (other, ex) = m.compare(
        "ZEPHYRANT HANDELS GMBH",
        "ZEPHYRANT HANDELS KFT",
        Schema::Company,
    );
    assert!(other < same, "{other} vs {same}");
    assert!(
        ex.notes
            .iter()
            .any(|n| n.contains("different jurisdictions")),
        "{}",
        ex.summary()
    );
}

/// Class "normalisation mistakes": a number or a last Roman numeral on one side only names
/// another vessel or issue ("MARIE DE LOURDES V"), and costs more than a missing generic word.
#[test]
fn a_number_on_one_side_only_lowers_the_score() {
    let m = matcher();
    let plain = score(&m, "MARIE DE LOURDES", "MARIE DE LOURDES", Schema::Vessel);
    let numbered = score(&m, "MARIE DE LOURDES V", "MARIE DE LOURDES", Schema::Vessel);
    let numbered2 = score(&m, "MARIE DE LOURDES 2", "MARIE DE LOURDES", Schema::Vessel);
    assert!(
        numbered < plain && numbered2 < plain,
        "{numbered} {numbered2} {plain}"
    );
    assert!(numbered < m.config.threshold.max(0.5) + 0.3, "{numbered}");
}

/// Class "generic words": sharing only a common word is weaker evidence than sharing the
/// name's own rare word, with the same shape of names.
#[test]
fn a_shared_rare_word_counts_more_than_a_shared_generic_word() {
    let m = matcher();
    let rare = score(&m, "QUORVEX SHIPPING", "QUORVEX TRADING", Schema::Company);
    let generic = score(&m, "ZELMORA TRADING", "QUORVEX TRADING", Schema::Company);
    assert!(rare > generic, "{rare} vs {generic}");
}

/// Class "scores saturate": a calibrated probability, below 1 even for identical names, and
/// identical names rank above any spelling variant.
#[test]
fn scores_rank_variants_below_identical_names_and_never_reach_one() {
    let m = matcher();
    let same = score(
        &m,
        "QUORVEX TRADING LTD",
        "QUORVEX TRADING LTD",
        Schema::Company,
    );
    for v in [
        "QUORVEX TRADNG LTD",
        "QUORVEX TRADING",
        "QUORVEKS TRADING LTD",
    ] {
        let s = score(&m, v, "QUORVEX TRADING LTD", Schema::Company);
        assert!(s < same, "{v}: {s} vs {same}");
    }
    assert!(same < 1.0, "{same}");
}

/// Class "scripts": foreign names written by sound in Hangul, Han characters or katakana read
/// against their Latin spelling with the learned pieces, word by word; another name does not.
#[test]
fn foreign_names_in_east_asian_scripts_meet_their_latin_spelling() {
    let m = matcher();
    let thr = m.config.threshold;
    for (latin, native) in [
        ("George Washington", "조지 워싱턴"),
        ("Franz Kafka", "프란츠 카프카"),
        ("Carlos", "卡洛斯"),
        ("Anders", "安德斯"),
        ("Martin", "マーティン"),
    ] {
        let (s, ex) = m.compare(latin, native, Schema::Person);
        assert!(s >= thr, "{latin} / {native}: {s} {}", ex.summary());
        assert!(
            ex.summary().contains("(transliteration)"),
            "{}",
            ex.summary()
        );
    }
    for (latin, native) in [
        ("Thomas Jefferson", "조지 워싱턴"),
        ("Martin", "卡洛斯"),
        ("Carlos", "マーティン"),
    ] {
        let (s, ex) = m.compare(latin, native, Schema::Person);
        assert!(s < thr, "{latin} / {native}: {s} {}", ex.summary());
    }
}

/// Class "scripts": Japanese kanji are not read as transcriptions of a foreign name (nor as
/// pinyin by the learned pieces); a name with kana is Japanese.
#[test]
fn kanji_beside_kana_are_not_read_as_foreign_transcriptions() {
    assert_eq!(
        borderline_screening::translit::native_words("山田 マーティン"),
        ["マーティン"]
    );
    assert_eq!(
        borderline_screening::translit::native_words("卡洛斯"),
        ["卡洛斯"]
    );
}

/// Two names in one native script are compared by their Latin reading, never by an edit
/// distance over the native letters: "محمد احمدی" (Mohammad Ahmadi) is not "محمد محمدی"
/// (Mohammad Mohammadi).
#[test]
fn native_spellings_differing_in_a_letter_are_not_read_as_typos() {
    let m = Matcher::from_entries(
        vec![Entry::new("t", "1", Schema::Person, "محمد احمدی")],
        MatchConfig::default(),
    );
    let (s, ex) = m.compare("محمد محمدی", "محمد احمدی", Schema::Person);
    assert!(s < m.config.threshold, "{s}: {}", ex.summary());
    let (s, _) = m.compare("محمد احمدی", "محمد احمدی", Schema::Person);
    assert!(s >= m.config.threshold, "{s}");
}
