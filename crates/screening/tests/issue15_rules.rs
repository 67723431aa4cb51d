//! Issue 15, error analysis on the dev parts of the alias sets: each rule stated as a
//! specification on names written for these tests (not taken from any evaluation set).

use borderline_screening::{Entry, MatchConfig, Matcher, Schema};

/// `a` against `b` is not explained with `how` (e.g. "(transliteration)").
fn not_explained_as(m: &Matcher, how: &str, a: &str, b: &str, schema: Schema) {
    let (_, ex) = m.compare(a, b, schema);
    assert!(!ex.summary().contains(how), "{a} / {b}: {}", ex.summary());
}

/// Names plus filler so token weights behave as on real lists: generic words are common,
/// the names' own words rare.
fn matcher() -> Matcher {
    let mut es = vec![
        Entry::new("t", "1", Schema::Company, "HORMOZ OIL REFINING COMPANY"),
        Entry::new("t", "2", Schema::Company, "BICENTENARIO VI"),
        Entry::new("t", "3", Schema::Person, "AL-ARIFI, Nayif Hasan"),
        Entry::new("t", "4", Schema::Company, "NORDWIND TRADE DOO"),
    ];
    let generic = [
        "OIL", "REFINING", "COMPANY", "TRADE", "GLOBAL", "TRADING", "STAR", "GROUP", "DOO", "ZA",
        "I",
    ];
    for (i, w) in generic.iter().enumerate() {
        for j in 0..40 {
            es.push(Entry::new(
                "f",
                format!("{i}-{j}"),
                Schema::Company,
                format!("{w} FILLER{i}X{j}"),
            ));
        }
    }
    Matcher::from_entries(es, MatchConfig::default())
}

/// Class "person-name variants": an Arabic article glued to the name in one romanisation
/// ("ALARIFI") and written apart (dropped by normalisation) in the other is the same word.
#[test]
fn glued_arabic_article_is_a_transliteration_variant() {
    let m = matcher();
    let (s, ex) = m.compare(
        "ALARIFI, Naif Hassan",
        "AL-ARIFI, Nayif Hasan",
        Schema::Person,
    );
    assert!(
        ex.summary().contains("alarifi~arifi (transliteration)"),
        "{}",
        ex.summary()
    );
    assert!(s >= m.config.threshold, "{s}: {}", ex.summary());
    // A word that merely starts with the letters "al" is not an article plus a name.
    not_explained_as(
        &m,
        "(transliteration)",
        "ALBERTO GOMEZ",
        "BERTA GOMEZ",
        Schema::Person,
    );
}

/// Class "normalisation mistakes" (numbers and vessel identifiers): a short word or a number on
/// one side only is another vessel or branch, not a moved word boundary.
#[test]
fn letters_route_needs_a_moved_boundary_for_extra_short_words() {
    let m = matcher();
    for (a, b) in [
        ("BICENTENARIO V", "BICENTENARIO VI"),
        ("ALMACEN JUNIOR", "ALMACEN JUNIOR NO. 2"),
    ] {
        let (_, ex) = m.compare(a, b, Schema::Company);
        assert!(
            !ex.summary().contains("letters agree"),
            "{a} / {b}: {}",
            ex.summary()
        );
    }
    // A moved boundary still counts.
    let (_, ex) = m.compare("AREFULLAHA REF", "AREFULLAH AREF", Schema::Company);
    assert!(ex.summary().contains("letters agree"), "{}", ex.summary());
}

/// Class "recall is lost to extra words": a company name whose own (distinctive) word agrees is
/// not "only generic words shared", however many words the other spelling adds.
#[test]
fn a_shared_distinctive_word_is_more_than_generic_words() {
    let m = matcher();
    let (_, ex) = m.compare(
        "NORDWIND TRADE DOO",
        "NORDWIND TRADE PREDUZECE ZA PROIZVODNJU PROMET I USLUGE DOO",
        Schema::Company,
    );
    assert!(
        !ex.summary().contains("only generic words"),
        "{}",
        ex.summary()
    );
    // Only generic words in common: still marked.
    let (_, ex) = m.compare(
        "OIL REFINING COMPANY",
        "HORMOZ OIL REFINING COMPANY",
        Schema::Company,
    );
    assert!(
        ex.summary().contains("only generic words"),
        "{}",
        ex.summary()
    );
}

/// Company precision: a name word replaced by another on both sides scores below the same
/// words with one added on one side (unexplained words weigh on each side; a dedicated
/// "replaced on both sides" feature was tried and fitted to weight 0 on the dev parts).
#[test]
fn replaced_words_score_below_added_words() {
    let m = matcher();
    let (s_replaced, _) = m.compare(
        "ABADAN OIL REFINING COMPANY",
        "HORMOZ OIL REFINING COMPANY",
        Schema::Company,
    );
    let (s_added, _) = m.compare(
        "HORMOZ OIL REFINING COMPANY OF ABADAN",
        "HORMOZ OIL REFINING COMPANY",
        Schema::Company,
    );
    assert!(s_replaced < s_added, "{s_replaced} vs {s_added}");
}

/// Class "person-name variants" (initials against full given names): an initial explains a
/// name word that starts with it, but an initial alone is not a second matched name.
#[test]
fn initials_explain_given_names_but_do_not_make_a_match() {
    let m = matcher();
    let (with_initial, ex) = m.compare(
        "BATTERJEE, Adel Abdul Jaleel I.",
        "BATTERJEE, Adel Abdul Jaleel Ibrahim",
        Schema::Person,
    );
    assert!(
        ex.summary().contains("i~ibrahim (initial)"),
        "{}",
        ex.summary()
    );
    let (other_initial, _) = m.compare(
        "BATTERJEE, Adel Abdul Jaleel K.",
        "BATTERJEE, Adel Abdul Jaleel Ibrahim",
        Schema::Person,
    );
    assert!(
        with_initial > other_initial,
        "{with_initial} vs {other_initial}"
    );
    // "HIJAZI, R." shares one name and one initial with "HIJAZI, Riad": one name only.
    let (_, ex) = m.compare("HIJAZI, R.", "HIJAZI, Riad", Schema::Person);
    assert!(
        ex.summary().contains("only one name token matched"),
        "{}",
        ex.summary()
    );
    // Companies have no initials: "A" is not "ALFA".
    let (_, ex) = m.compare("A TRADE DOO", "ALFA TRADE DOO", Schema::Company);
    assert!(!ex.summary().contains("(initial)"), "{}", ex.summary());
}

/// Class "normalisation mistakes" (fourth round): three or four words written as one in the
/// other name ("AERO SKY ONE" / "AEROSKYONE") are one word with moved boundaries, as two
/// words already were.
#[test]
fn three_words_written_as_one_are_merged() {
    let m = matcher();
    let (s, ex) = m.compare(
        "NORD WIND STAR TRADE",
        "NORDWINDSTAR TRADE",
        Schema::Company,
    );
    assert!(
        ex.matched
            .iter()
            .any(|t| t.how == borderline_screening::MatchHow::Merged
                && t.query == "nord wind star"),
        "{}",
        ex.summary()
    );
    assert!(s >= 0.4, "{s} {}", ex.summary());
    // Out of order they are different words.
    let (s2, ex2) = m.compare(
        "STAR WIND NORD TRADE",
        "NORDWINDSTAR TRADE",
        Schema::Company,
    );
    assert!(s2 < s, "{s2} {}", ex2.summary());
}

/// Class "person-name variants" (fourth round): "Abd al-X", "Abdul X", "Abdel X", "AbdulX" and
/// "AbdurX" are one Arabic name; written differently on the two sides they still align word
/// by word, with nothing left unexplained.
#[test]
fn abd_names_match_however_they_are_split() {
    let m = matcher();
    for (a, b) in [
        ("AL-ARIFI, Abd al-Rahman", "ARIFI, Abdulrahman"),
        ("ARIFI, Abdel Hafiz", "AL-ARIFI, Abdul Hafiz"),
        ("ARIFI, Abdurrahman", "ARIFI, Abd-al-Rahman"),
    ] {
        let (s, ex) = m.compare(a, b, Schema::Person);
        assert!(
            ex.unmatched_query.is_empty() && ex.unmatched_candidate.is_empty(),
            "{a} / {b}: {}",
            ex.summary()
        );
        assert!(s >= 0.4, "{a} / {b}: {s} {}", ex.summary());
    }
}

/// Class "scripts" / "person-name variants" (fourth round): Korean names in McCune-Reischauer
/// ("Chong", "Chin", "Pak") and Revised Romanization ("Jong", "Jin", "Bak") are one name when
/// every word of both is a Korean syllable; a name with a non-Korean word keeps the ordinary
/// rules ("Chin" is not "Jin" for "Chin Smith").
#[test]
fn korean_romanisations_of_one_name_match() {
    let m = matcher();
    let (s, ex) = m.compare("RI, Chong Chol", "RI, Jong Chol", Schema::Person);
    assert!(
        ex.unmatched_query.is_empty() && s >= 0.4,
        "{s} {}",
        ex.summary()
    );
    let (_, ex) = m.compare("Chin Smith", "Jin Smith", Schema::Person);
    assert!(!ex.unmatched_query.is_empty(), "{}", ex.summary());
}

/// The Korean syllable rule reads Latin words only: persons' names in other scripts (their
/// native segment) are compared without it, and without panicking.
#[test]
fn native_script_person_names_are_not_read_as_korean_syllables() {
    let m = matcher();
    let (s, _) = m.compare("رضا احمدی", "رضا محمدی", Schema::Person);
    assert!((0.0..=1.0).contains(&s));
}

/// Class "normalisation mistakes" (plural folding that merges different names): a person's
/// name word ending in "s" is not a plural. "Denys" stays "denys" (one letter from "Denis",
/// not "deny"), "Santos" is not "Santo"; company words still fold ("INDUSTRIES" /
/// "INDUSTRY"), and a query of unknown kind still meets a listed person's "Carlos" exactly.
#[test]
fn person_names_are_not_folded_as_plurals() {
    use borderline_screening::normalize::{normalize, normalize_person};
    let words = |n: borderline_screening::normalize::NormName| {
        n.tokens()
            .iter()
            .map(|t| t.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(normalize_person("PUSHYLIN, Denys")),
        ["pushylin", "denys"]
    );
    assert_eq!(words(normalize_person("Santos Abbas")), ["santos", "abbas"]);
    assert_eq!(words(normalize("ACME INDUSTRIES")), ["acme", "industry"]);

    let m = Matcher::from_entries(
        vec![
            Entry::new("t", "1", Schema::Person, "RAMOS, Carlos"),
            Entry::new("t", "2", Schema::Company, "NORDWIND INDUSTRY LTD"),
        ],
        MatchConfig::default(),
    );
    let (s, ex) = m.compare("PUSHYLIN, Denys", "PUSHYLIN, Denis", Schema::Person);
    assert!(ex.summary().contains("denys~denis"), "{}", ex.summary());
    assert!(s >= m.config.threshold, "{s}: {}", ex.summary());
    let (s, ex) = m.compare("Fares Haddad", "Faris Haddad", Schema::Person);
    assert!(ex.summary().contains("fares~faris"), "{}", ex.summary());
    assert!(s >= m.config.threshold, "{s}: {}", ex.summary());
    let (s, ex) = m.compare(
        "NORDWIND INDUSTRIES LTD",
        "NORDWIND INDUSTRY LTD",
        Schema::Company,
    );
    assert!(
        ex.summary().contains("industry=industry"),
        "{}",
        ex.summary()
    );
    assert!(s >= m.config.threshold, "{s}");

    // Screening a name of unknown kind: the listed person's "carlos" is met as written.
    let hits = m.screen(&borderline_screening::Query::name("Carlos Ramos"));
    let hit = hits.iter().find(|h| h.entry_id == "1").expect("person hit");
    assert!(
        hit.explanation.summary().contains("carlos=carlos"),
        "{}",
        hit.explanation.summary()
    );
    // ... and a company of unknown kind keeps its folded plural.
    let hits = m.screen(&borderline_screening::Query::name(
        "Nordwind Industries Ltd",
    ));
    assert!(hits.iter().any(|h| h.entry_id == "2"), "{hits:?}");
}

/// Classes "scripts" and "person-name variants": a Chinese name in Wade-Giles ("HSU",
/// "TSAI", "CHIANG", "Shih") against its pinyin spelling ("XU", "CAI", "JIANG", "Shi") is
/// one name, syllable by syllable, once a word shows the Wade-Giles system. Two pinyin names
/// that differ in an initial ("ZHANG Wei" / "CHANG Wei") are still two names, and a name with
/// a word of another language keeps the ordinary rules.
#[test]
fn wade_giles_and_pinyin_spellings_of_a_chinese_name_match() {
    let m = matcher();
    for (wg, py, shown) in [
        (
            "HSU, Chih Cheng",
            "XU, Zhi Cheng",
            "hsu~xu (transliteration)",
        ),
        (
            "TSAI Ying Wen",
            "CAI Ying Wen",
            "tsai~cai (transliteration)",
        ),
        (
            "CHIANG, Ching Kuo",
            "JIANG, Jing Guo",
            "chiang~jiang (transliteration)",
        ),
        (
            "SUN, Shih Mei",
            "SUN, Shi Mei",
            "shih~shi (transliteration)",
        ),
        (
            "HSIEH Tung Min",
            "XIE Dong Min",
            "tung~dong (transliteration)",
        ),
    ] {
        let (s, ex) = m.compare(wg, py, Schema::Person);
        assert!(
            ex.summary().contains(shown),
            "{wg} / {py}: {}",
            ex.summary()
        );
        assert!(s >= m.config.threshold, "{wg} / {py}: {s} {}", ex.summary());
    }
    // The given name hyphenated in Wade-Giles, glued in pinyin.
    for (wg, py, shown) in [
        (
            "HSU Chih-cheng",
            "XU Zhicheng",
            "chih cheng~zhicheng (merged)",
        ),
        (
            "TENG Hsiao-ping",
            "DENG Xiaoping",
            "hsiao ping~xiaoping (merged)",
        ),
    ] {
        let (s, ex) = m.compare(wg, py, Schema::Person);
        assert!(
            ex.summary().contains(shown),
            "{wg} / {py}: {}",
            ex.summary()
        );
        assert!(s >= m.config.threshold, "{wg} / {py}: {s} {}", ex.summary());
    }
    let (s, ex) = m.compare("ZHANG Wei Ming", "CHANG Wei Ming", Schema::Person);
    assert!(
        !ex.summary().contains("(transliteration)"),
        "{}",
        ex.summary()
    );
    let (s2, _) = m.compare("ZHANG Wei Ming", "ZHANG Wei Ming", Schema::Person);
    assert!(s < s2, "{s} {s2}");
    not_explained_as(
        &m,
        "(transliteration)",
        "HSU Peter",
        "XU Peter",
        Schema::Person,
    );
}

/// Classes "scripts" and "person-name variants": one East Slavic name in two romanisations
/// ("Yelena" / "Elena", "Yevgeniy" / "Evgeny", Ukrainian "Serhiy" / Russian "Sergey",
/// "Hryb" / "Grib") is one name once a name shows an East Slavic surname or patronymic
/// ending (-ov, -enko, -sky, -ovich, -ovna ...; "-ina" is too common elsewhere to count);
/// without one, "h" and "g" stay different letters ("HILL, John" / "GILL, John").
#[test]
fn romanisations_of_east_slavic_names_match() {
    let m = matcher();
    for (a, b, shown) in [
        (
            "MIZULINA, Elena",
            "MIZULINA, Yelena Borisovna",
            "elena~yelena (transliteration)",
        ),
        (
            "KOZYAKOV, Serhiy Yuriyovych",
            "KOZYAKOV, Sergey Yurievich",
            "serhiy~sergey (transliteration)",
        ),
        (
            "HRYB, Mikhail Ivanovich",
            "GRIB, Mikhail Ivanovich",
            "hryb~grib (transliteration)",
        ),
        (
            "PETROV, Yevgeniy",
            "PETROV, Evgeny",
            "yevgeniy~evgeny (transliteration)",
        ),
    ] {
        let (s, ex) = m.compare(a, b, Schema::Person);
        assert!(ex.summary().contains(shown), "{a} / {b}: {}", ex.summary());
        assert!(s >= m.config.threshold, "{a} / {b}: {s} {}", ex.summary());
    }
    let (_, ex) = m.compare("HILL, John Robert", "GILL, John Robert", Schema::Person);
    assert!(
        !ex.summary().contains("(transliteration)"),
        "{}",
        ex.summary()
    );
    // Different given names stay different in a Slavic name.
    not_explained_as(
        &m,
        "(transliteration)",
        "IVANOV, Kirill",
        "IVANOV, Dmitriy",
        Schema::Person,
    );
}

/// Tenth round, class "person-name variants are rejected" (transliterations of Russian
/// names): a Belarusian romanisation of a person's name does not keep it apart from the
/// Russian one. Belarusian writes the unstressed Russian "o" as "a" and "e" as "ia"
/// ("Sviatlana" / "Svetlana", "Piatrowna" / "Petrovna"), a soft "d" as "dz" ("Dzianis" /
/// "Denis"), "ў" as "u" or "w" ("Uladzimiravich" / "Vladimirovich", "-au" for "-ov") and
/// "-enka" for "-enko"; the words are explained as transliterations. Different patronymics
/// and a male against a female form stay different words.
#[test]
fn belarusian_spellings_of_a_russian_name_do_not_keep_one_person_apart() {
    let m = matcher();
    for (a, b, shown) in [
        (
            "SAKALOU, Dzianis Uladzimiravich",
            "SOKOLOV, Denis Vladimirovich",
            "uladzimiravich~vladimirovich (transliteration)",
        ),
        (
            "KAVALENKA, Sviatlana Piatrowna",
            "KOVALENKO, Svetlana Petrovna",
            "piatrowna~petrovna (transliteration)",
        ),
        (
            "HARADZETSKI, Dzmitry Piatrovich",
            "GORODETSKIY, Dmitriy Petrovich",
            "dzmitry~dmitriy (transliteration)",
        ),
    ] {
        let (s, ex) = m.compare(a, b, Schema::Person);
        assert!(ex.summary().contains(shown), "{a} / {b}: {}", ex.summary());
        assert!(s >= m.config.threshold, "{a} / {b}: {s} {}", ex.summary());
    }
    // Another patronymic, and a man against a woman, are not spellings of one word.
    for (a, b) in [
        ("SOKOLOV, Denis Petrovich", "SOKOLOV, Denis Pavlovich"),
        (
            "SOKOLOVA, Yevgeniya Ivanovna",
            "SOKOLOV, Yevgeniy Ivanovich",
        ),
    ] {
        not_explained_as(&m, "(transliteration)", a, b, Schema::Person);
    }
    // Without an East Slavic surname or patronymic the vowels keep their weight.
    not_explained_as(
        &m,
        "(transliteration)",
        "MOREAU, Dzianis",
        "MOREAU, Denis",
        Schema::Person,
    );
}

/// Tenth round, class "person-name variants are rejected": a person's surname romanised in a
/// way no spelling rule reads ("Haddouri" / "Hadury") is left unmatched on both sides, like
/// a different surname, and the two-name rule caps the pair. Words spelled partly alike (4+
/// letters, at most two fifths edited) are a pair-model feature and a note on the
/// explanation: such a pair ranks clearly above the same given name with another surname.
/// Romanised Chinese or Korean syllables one letter apart are two names and get no credit.
#[test]
fn a_surname_spelled_partly_alike_ranks_above_another_surname() {
    let m = matcher();
    let (alike, ex) = m.compare(
        "HADDOURI, Karim Nadir",
        "HADURY, Karim Nadir",
        Schema::Person,
    );
    assert!(
        ex.notes
            .iter()
            .any(|n| n == "unmatched words spelled partly alike: haddouri / hadury"),
        "{}",
        ex.summary()
    );
    let (other, ex2) = m.compare(
        "HADDOURI, Karim Nadir",
        "BENSALEM, Karim Nadir",
        Schema::Person,
    );
    assert!(
        !ex2.notes.iter().any(|n| n.contains("spelled partly alike")),
        "{:?}",
        ex2.notes
    );
    assert!(
        alike >= other + 0.05,
        "partly alike {alike:.3} against another surname {other:.3}"
    );
    let (_, ex3) = m.compare("JANG, Yong Chol", "JANG, Song Chol", Schema::Person);
    assert!(
        !ex3.notes.iter().any(|n| n.contains("spelled partly alike")),
        "{:?}",
        ex3.notes
    );
}

/// Class "company-name symbols and abbreviations": an organisation's acronym stands for the
/// words whose first letters it spells, in order ("NFC" / "NATIONAL FACTORING COMPANY",
/// "ISIL" / "ISLAMIC STATE OF IRAQ AND THE LEVANT", "N P C" / "NPC"), explained as initials.
/// Letters in another order, or a person's name, are no acronym.
#[test]
fn acronyms_stand_for_the_words_they_spell() {
    let m = matcher();
    for (a, b, shown) in [
        (
            "BANK NATIONAL FACTORING COMPANY JSC",
            "BANK NFC JSC",
            "national factoring co~nfc (initial)",
        ),
        (
            "ISIL SAUDI ARABIA",
            "ISLAMIC STATE OF IRAQ AND THE LEVANT SAUDI ARABIA",
            "isil~islamic state iraq levant (initial)",
        ),
        (
            "N P C NORDWIND LTD",
            "NPC NORDWIND LIMITED",
            "n p c~npc (initial)",
        ),
    ] {
        let (s, ex) = m.compare(a, b, Schema::Company);
        assert!(ex.summary().contains(shown), "{a} / {b}: {}", ex.summary());
        assert!(s >= m.config.threshold, "{a} / {b}: {s} {}", ex.summary());
    }
    let (_, ex) = m.compare(
        "BANK CFN JSC",
        "BANK NATIONAL FACTORING COMPANY JSC",
        Schema::Company,
    );
    assert!(!ex.summary().contains("(initial)"), "{}", ex.summary());
    let (_, ex) = m.compare("ABE SMITH", "ALAN BRIAN EVANS SMITH", Schema::Person);
    assert!(!ex.summary().contains("(initial)"), "{}", ex.summary());
}

/// Class "company-name symbols and abbreviations": one company word in another language or
/// spelling (`rigour` organisation symbols: "UPRAVLENIE" / "MANAGEMENT", "INDUSTRIAL" /
/// "INDUSTRY", "TSENTR" / "CENTER") is the same word, explained as a symbol; persons' names
/// are not read this way, and words of different groups stay different.
#[test]
fn company_words_in_other_languages_are_symbols() {
    let m = matcher();
    for (a, b, shown) in [
        (
            "NORDWIND UPRAVLENIE AKTIVAMI",
            "NORDWIND ASSET MANAGEMENT",
            "upravlenie~management (symbol)",
        ),
        (
            "TAAMIN INDUSTRIAL SUPPLY COMPANY",
            "TAAMIN INDUSTRY SUPPLY",
            "industrial~industry (symbol)",
        ),
    ] {
        let (s, ex) = m.compare(a, b, Schema::Company);
        assert!(ex.summary().contains(shown), "{a} / {b}: {}", ex.summary());
        assert!(s >= m.config.threshold, "{a} / {b}: {s} {}", ex.summary());
    }
    let (_, ex) = m.compare("NORDWIND FUND", "NORDWIND MANAGEMENT", Schema::Company);
    assert!(!ex.summary().contains("(symbol)"), "{}", ex.summary());
    let (_, ex) = m.compare("Anna Trade", "Anna Trading", Schema::Person);
    assert!(!ex.summary().contains("(symbol)"), "{}", ex.summary());
}

/// Class "person-name variants": a Korean or Chinese given name written as one word, with a
/// hyphen or as two words is one name ("Kim Jongun" / "Kim Jong Un" / "KIM Jong-un").
#[test]
fn glued_and_hyphenated_given_names_match() {
    let m = matcher();
    for (a, b) in [
        ("Kim Jongun", "Kim Jong Un"),
        ("KIM Jong-un", "Kim Jongun"),
        ("Li Hongri", "Li Hong Ri"),
    ] {
        let (s, ex) = m.compare(a, b, Schema::Person);
        assert!(s >= m.config.threshold, "{a} / {b}: {s} {}", ex.summary());
    }
}

/// Class "recall is lost to extra words": a list field that holds several names separated by
/// semicolons ("Javad Rahigi; Jawad Rahiqi") is read name by name, so one of them can match
/// alone instead of the others counting as unexplained words.
#[test]
fn semicolon_separated_names_are_read_one_by_one() {
    let m = matcher();
    let (s, ex) = m.compare(
        "JAVAD RAHIQI",
        "Javad Rahigi; Jawad Rahigi; Jawad Rahiqi",
        Schema::Person,
    );
    assert!(s >= m.config.threshold, "{s}: {}", ex.summary());
    assert!(ex.unmatched_candidate.is_empty(), "{}", ex.summary());
    let segments =
        borderline_screening::normalize::normalize("ACME LTD; BLUE SEA TRADING").segments;
    assert_eq!(segments.len(), 3, "{segments:?}");
}

/// Class "person-name variants": name particles written several ways are one word in a
/// person's name ("Abou" / "Abu", "Ebni" / "Ibn" / "bin", Burmese "Mg" / "Maung"); "Ben",
/// also a given name, is left as written.
#[test]
fn person_name_particles_are_read_as_one() {
    use borderline_screening::normalize::normalize_person;
    let words = |s: &str| {
        normalize_person(s)
            .tokens()
            .iter()
            .map(|t| t.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(words("ABOU SALEM, Ibrahim"), ["abu", "salem", "ibrahim"]);
    assert_eq!(words("Awad Ebni Auf"), ["awad", "bin", "auf"]);
    assert_eq!(words("SWE, Khin Mg"), ["swe", "khin", "maung"]);
    assert_eq!(words("Ben Smith"), ["ben", "smith"]);
    let m = matcher();
    let (s, ex) = m.compare("SWE, U Khin Maung", "SWE, Khin Mg", Schema::Person);
    assert!(ex.summary().contains("maung=maung"), "{}", ex.summary());
    assert!(s >= m.config.threshold, "{s}: {}", ex.summary());
}

/// Persons with names like these and common filler, so that token weights behave as on the
/// lists (the given names are common, the surname rarer).
fn person_matcher() -> Matcher {
    let mut es = vec![
        Entry::new("t", "p1", Schema::Person, "AL-TURKI, Hassan Abdullah Hersi"),
        Entry::new("t", "p2", Schema::Person, "AL-TIKRITI, Saddam Hussein"),
    ];
    for (i, w) in ["Hassan", "Abdullah", "Hussein", "Saddam", "Hala", "Hersi"]
        .iter()
        .enumerate()
    {
        for j in 0..20 {
            es.push(Entry::new(
                "f",
                format!("{i}-{j}"),
                Schema::Person,
                format!("FILLER{i}X{j}, {w}"),
            ));
        }
    }
    Matcher::from_entries(es, MatchConfig::default())
}

/// Twelfth round, class "one side adds names" (the largest class of person false negatives
/// whose added words are explained by the name's structure): a name written "SURNAME, Given
/// names" whose other spelling adds given names *after* the ones both share continues the
/// same name (a name chain's father's and grandfather's names, or middle names). It is said
/// on the explanation, is a model feature, and keeps the pair a match; the same words
/// without the comma say nothing about where the added names stand.
#[test]
fn given_names_added_after_the_shared_ones_continue_the_name() {
    let m = person_matcher();
    let (s, ex) = m.compare(
        "AL-TURKI, Hassan",
        "AL-TURKI, Hassan Abdullah Hersi",
        Schema::Person,
    );
    assert!(
        ex.summary()
            .contains("given names added after the shared ones (abdullah hersi)"),
        "{}",
        ex.summary()
    );
    assert!(ex.features[20] > 0.0, "{:?}", ex.features);
    assert!(s >= m.config.threshold, "{s}: {}", ex.summary());
    // Without the comma the parts of the name are unknown: no such evidence.
    let (s_plain, ex_plain) = m.compare(
        "Hassan Al-Turki",
        "Hassan Abdullah Hersi Al-Turki",
        Schema::Person,
    );
    assert_eq!(ex_plain.features[20], 0.0, "{}", ex_plain.summary());
    assert!(
        !ex_plain.summary().contains("given names added"),
        "{}",
        ex_plain.summary()
    );
    assert!(s > s_plain, "{s} vs {s_plain}");
}

/// Twelfth round, the other side of the same structure: a first name added *before* two or
/// more shared given names makes the shared ones another person's name chain ("Hala Saddam
/// Hussein" is Hala, daughter of Saddam Hussein). It is said on the explanation and is not
/// credited as a continued name: the pair ranks below the name continued by as many words.
#[test]
fn a_given_name_added_before_the_shared_ones_is_not_a_continued_name() {
    let m = person_matcher();
    let (s_child, ex) = m.compare(
        "AL-TIKRITI, Hala Saddam Hussein",
        "AL-TIKRITI, Saddam Hussein",
        Schema::Person,
    );
    assert!(
        ex.summary()
            .contains("a given name added before the shared ones (hala)"),
        "{}",
        ex.summary()
    );
    assert_eq!(ex.features[20], 0.0, "{:?}", ex.features);
    assert_eq!(ex.features[21], 1.0, "{:?}", ex.features);
    let (s_continued, ex2) = m.compare(
        "AL-TIKRITI, Saddam Hussein Hala",
        "AL-TIKRITI, Saddam Hussein",
        Schema::Person,
    );
    assert!(ex2.features[20] > 0.0, "{}", ex2.summary());
    assert!(
        s_continued > s_child + 0.05,
        "{s_continued} vs {s_child}: {} / {}",
        ex2.summary(),
        ex.summary()
    );
}

/// Twelfth round: spellings of titles the vocabulary lacked ("Hajj", "Maulavi", "Seyyed",
/// "Mufti") are known extra words, like "Haji", "Maulvi" and "Sayyid": left unmatched they
/// weigh a quarter of a name word, and they are not given names added to a name.
#[test]
fn title_spellings_are_known_extra_words() {
    for w in [
        "hajj", "maulavi", "maulawi", "seyyed", "seyed", "sayyed", "mufti",
    ] {
        assert!(
            borderline_screening::normalize::is_known_extra(w),
            "{w} is a title"
        );
    }
    let m = person_matcher();
    let (_, ex) = m.compare(
        "AL-TURKI, Hajj Hassan Abdullah",
        "AL-TURKI, Hassan",
        Schema::Person,
    );
    assert!(
        ex.summary()
            .contains("given names added after the shared ones (abdullah)"),
        "{}",
        ex.summary()
    );
}
