//! `borderline screen evaluate` and `borderline screen bench`: quality and speed of the matcher
//! against the token-sorted Jaro-Winkler baseline, run in the same process on the same data.
//!
//! Sets:
//! * **company/vessel pairs** from [`super::pairs::generate`] (seeded), scored pairwise;
//! * **UN positives** (plain and with typos) from `name-matching-dev`: a positive counts as
//!   found when the UN entry it names is among the hits at the threshold. The entry is the one
//!   whose normalised name equals the plain row's; rows naming no UN entry exactly are reported
//!   and count as found on any UN hit;
//! * **negatives**: the 100k synthetic people (false hits per 1,000 names, all bundled lists),
//!   and the US Congress members (a politically exposed, common-name stress set).
//!
//! The dev sets are read from `../shared/data/name-matching-dev` (too large for the repo);
//! when missing the people sets are skipped with a message and only the pairs are evaluated.

use super::baseline::{self, Baseline};
use super::pairs::{self, LabelledPair};
use ahash::AHashMap;
use borderline_screening::normalize::normalize;
use borderline_screening::{Matcher, Query, Schema};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct PairMetrics {
    pub method: String,
    pub threshold: f64,
    pub pairs: usize,
    pub positives: usize,
    pub precision: f64,
    pub recall: f64,
    /// Accuracy per generator category.
    pub by_category: Vec<(String, usize, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecallMetrics {
    pub method: String,
    pub set: String,
    pub threshold: f64,
    pub rows: usize,
    pub recall: f64,
    pub precision: f64,
    /// Rows not found (their names).
    pub missed: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FalseHitMetrics {
    pub method: String,
    pub set: String,
    pub threshold: f64,
    pub names: usize,
    pub false_hits: usize,
    pub per_1000: f64,
    pub examples: Vec<String>,
    /// List entries producing the false hits ("list:id name", hits), most first.
    pub by_entry: Vec<(String, usize)>,
}

/// Evidence a people query carries besides the name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Evidence {
    NameOnly,
    Country,
    CountryDob,
}

impl Evidence {
    const ALL: [Evidence; 3] = [Evidence::NameOnly, Evidence::Country, Evidence::CountryDob];
    fn label(self) -> &'static str {
        match self {
            Evidence::NameOnly => "borderline",
            Evidence::Country => "borderline+country",
            Evidence::CountryDob => "borderline+country+dob",
        }
    }
    fn query(self, p: &Person) -> Query {
        Query::name(p.name.clone())
            .schema(Schema::Person)
            .country(if self == Evidence::NameOnly {
                None
            } else {
                p.country.clone()
            })
            .birth_date(if self == Evidence::CountryDob {
                p.birth_date.clone()
            } else {
                None
            })
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    pub seed: u64,
    pub lists_names: usize,
    pub pairs: Vec<PairMetrics>,
    pub retrieval_recall: Option<f64>,
    pub recall: Vec<RecallMetrics>,
    pub false_hits: Vec<FalseHitMetrics>,
    pub notes: Vec<String>,
    pub seconds: f64,
}

pub struct EvalOptions {
    pub seed: u64,
    pub pairs: usize,
    pub dev_dir: Option<PathBuf>,
    /// Negatives (of the 100k) the brute-force baseline is run on (it takes ~10 ms a name).
    pub baseline_negatives: usize,
    pub baseline_thresholds: Vec<f64>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            seed: 42,
            pairs: 2000,
            dev_dir: None,
            baseline_negatives: 1000,
            baseline_thresholds: vec![0.94, 0.90],
        }
    }
}

/// Finds `name-matching-dev`: the given directory, `$BORDERLINE_NAME_MATCHING_DEV`, or
/// `../shared/data/name-matching-dev` relative to the working directory or the repository.
pub fn find_dev_dir(given: Option<&Path>) -> Option<PathBuf> {
    let mut cands: Vec<PathBuf> = Vec::new();
    if let Some(g) = given {
        cands.push(g.to_path_buf());
    }
    if let Ok(e) = std::env::var("BORDERLINE_NAME_MATCHING_DEV") {
        cands.push(PathBuf::from(e));
    }
    cands.push(PathBuf::from("../shared/data/name-matching-dev"));
    cands
        .push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/name-matching-dev"));
    cands
        .into_iter()
        .find(|p| p.join("positives_un_treated.csv").is_file())
}

/// One row of a name-matching-dev CSV.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    /// ISO alpha-2 of the nationality column.
    pub country: Option<String>,
    /// The date_of_birth column as given ("1965", "1965-04-29").
    pub birth_date: Option<String>,
}

/// Rows of a name-matching-dev CSV with name, nationality and date of birth.
pub fn read_persons(path: &Path) -> anyhow::Result<Vec<Person>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let hdr = rdr.headers()?.clone();
    let col = |name: &str| hdr.iter().position(|h| h == name);
    let ni = col("full_name").unwrap_or(0);
    let (ci, di) = (col("nationality"), col("date_of_birth"));
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r?;
        if let Some(n) = r.get(ni).filter(|n| !n.trim().is_empty()) {
            out.push(Person {
                name: n.to_string(),
                country: ci
                    .and_then(|i| r.get(i))
                    .and_then(borderline_screening::to_iso2),
                birth_date: di
                    .and_then(|i| r.get(i))
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(String::from),
            });
        }
    }
    Ok(out)
}

/// (full_name, nationality) rows of a name-matching-dev CSV.
pub fn read_people(path: &Path) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let hdr = rdr.headers()?.clone();
    let ni = hdr.iter().position(|h| h == "full_name").unwrap_or(0);
    let ci = hdr.iter().position(|h| h == "nationality");
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r?;
        if let Some(n) = r.get(ni).filter(|n| !n.trim().is_empty()) {
            let c = ci
                .and_then(|i| r.get(i))
                .and_then(borderline_screening::to_iso2);
            out.push((n.to_string(), c));
        }
    }
    Ok(out)
}

fn pair_metrics(
    method: &str,
    threshold: f64,
    pairs: &[LabelledPair],
    scores: &[f64],
) -> PairMetrics {
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    let mut cat: AHashMap<&str, (usize, usize)> = AHashMap::new();
    for (p, &s) in pairs.iter().zip(scores) {
        let pred = s >= threshold;
        match (pred, p.is_match) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            _ => {}
        }
        let c = cat.entry(p.category).or_default();
        c.0 += 1;
        if pred == p.is_match {
            c.1 += 1;
        }
    }
    let mut by_category: Vec<(String, usize, f64)> = cat
        .into_iter()
        .map(|(k, (n, ok))| (k.to_string(), n, ok as f64 / n as f64))
        .collect();
    by_category.sort_by(|a, b| a.0.cmp(&b.0));
    PairMetrics {
        method: method.into(),
        threshold,
        pairs: pairs.len(),
        positives: tp + fneg,
        precision: tp as f64 / (tp + fp).max(1) as f64,
        recall: tp as f64 / (tp + fneg).max(1) as f64,
        by_category,
    }
}

/// Runs the whole evaluation.
pub fn evaluate(m: &Matcher, opts: &EvalOptions) -> anyhow::Result<EvalReport> {
    let start = Instant::now();
    let thr = m.config.threshold;
    let mut rep = EvalReport {
        seed: opts.seed,
        lists_names: m.name_count(),
        ..Default::default()
    };
    // 1. Company / vessel pairs.
    let pairs = pairs::generate(m.entries(), opts.seed, opts.pairs / 2, opts.pairs / 2);
    let ours: Vec<f64> = pairs
        .iter()
        .map(|p| m.compare(&p.query, &p.list_name, p.schema).0)
        .collect();
    rep.pairs
        .push(pair_metrics("borderline", thr, &pairs, &ours));
    let base: Vec<f64> = pairs
        .iter()
        .map(|p| baseline::pair_score(&p.query, &p.list_name))
        .collect();
    for &t in &opts.baseline_thresholds {
        rep.pairs
            .push(pair_metrics("baseline_jw_sorted", t, &pairs, &base));
    }
    // Retrieval: does screening the variant against all lists return its source entry?
    let pos: Vec<&LabelledPair> = pairs.iter().filter(|p| p.is_match).collect();
    let found = pos
        .iter()
        .filter(|p| {
            m.screen(&Query::name(p.query.clone()).schema(p.schema))
                .iter()
                .any(|h| {
                    h.entry_index == p.entry_index
                        || m.entries()[h.entry_index].names().any(|n| n == p.list_name)
                })
        })
        .count();
    rep.retrieval_recall = Some(found as f64 / pos.len().max(1) as f64);

    // 2. People sets.
    let Some(dir) = find_dev_dir(opts.dev_dir.as_deref()) else {
        rep.notes.push("name-matching-dev not found (looked in --dev-dir, $BORDERLINE_NAME_MATCHING_DEV, ../shared/data/name-matching-dev): UN positives and people negatives skipped".into());
        rep.seconds = start.elapsed().as_secs_f64();
        return Ok(rep);
    };
    let plain = read_persons(&dir.join("positives_un_untreated.csv"))?;
    let typos = read_persons(&dir.join("positives_un_treated.csv"))?;
    // Expected UN entry per row: exact normalised-name match of the plain row.
    let mut by_norm: AHashMap<Vec<String>, Vec<usize>> = AHashMap::new();
    for (i, e) in m
        .entries()
        .iter()
        .enumerate()
        .filter(|(_, e)| e.list == "un")
    {
        for n in e.names() {
            let mut k: Vec<String> = normalize(n)
                .tokens()
                .iter()
                .map(|t| t.text.clone())
                .collect();
            k.sort();
            by_norm.entry(k).or_default().push(i);
        }
    }
    let expected: Vec<Option<Vec<usize>>> = plain
        .iter()
        .map(|p| {
            let mut k: Vec<String> = normalize(&p.name)
                .tokens()
                .iter()
                .map(|t| t.text.clone())
                .collect();
            k.sort();
            by_norm.get(&k).cloned()
        })
        .collect();
    let unresolved = expected.iter().filter(|e| e.is_none()).count();
    rep.notes.push(format!(
        "UN positives: {} rows, {} name no entry of the bundled UN list exactly (these count as found on any UN hit; the ones seen in development are on the OFAC SDN instead, which this recall does not credit)",
        plain.len(),
        unresolved
    ));
    let un_entries: Vec<borderline_screening::Entry> = m
        .entries()
        .iter()
        .filter(|e| e.list == "un")
        .cloned()
        .collect();
    let un_index_of: Vec<usize> = m
        .entries()
        .iter()
        .enumerate()
        .filter(|(_, e)| e.list == "un")
        .map(|(i, _)| i)
        .collect();
    let un_base = Baseline::new(&un_entries);
    for (set, rows) in [
        ("un_positives_plain", &plain),
        ("un_positives_typos", &typos),
    ] {
        for ev in Evidence::ALL {
            let (mut ok, mut hits_total, mut hits_right) = (0usize, 0usize, 0usize);
            let mut missed = Vec::new();
            for (i, p) in rows.iter().enumerate() {
                let hits = m.screen(&ev.query(p));
                let un_hits: Vec<usize> = hits
                    .iter()
                    .filter(|h| h.list == "un")
                    .map(|h| h.entry_index)
                    .collect();
                hits_total += un_hits.len();
                let right = match expected.get(i).and_then(|e| e.as_ref()) {
                    Some(exp) => un_hits.iter().filter(|h| exp.contains(h)).count(),
                    None => un_hits.len().min(1),
                };
                hits_right += right;
                if right > 0 {
                    ok += 1;
                } else {
                    missed.push(p.name.clone());
                }
            }
            rep.recall.push(RecallMetrics {
                method: ev.label().into(),
                set: set.into(),
                threshold: thr,
                rows: rows.len(),
                recall: ok as f64 / rows.len().max(1) as f64,
                precision: hits_right as f64 / hits_total.max(1) as f64,
                missed,
            });
        }
        for &t in &opts.baseline_thresholds {
            let (mut ok, mut hits_total, mut hits_right) = (0usize, 0usize, 0usize);
            for (i, p) in rows.iter().enumerate() {
                let hits: Vec<usize> = un_base
                    .screen(&p.name, t)
                    .into_iter()
                    .map(|(e, _)| un_index_of[e])
                    .collect();
                hits_total += hits.len();
                let right = match expected.get(i).and_then(|e| e.as_ref()) {
                    Some(exp) => hits.iter().filter(|h| exp.contains(h)).count(),
                    None => hits.len().min(1),
                };
                hits_right += right;
                if right > 0 {
                    ok += 1;
                }
            }
            rep.recall.push(RecallMetrics {
                method: "baseline_jw_sorted (UN list only)".into(),
                set: set.into(),
                threshold: t,
                rows: rows.len(),
                recall: ok as f64 / rows.len().max(1) as f64,
                precision: hits_right as f64 / hits_total.max(1) as f64,
                missed: Vec::new(),
            });
        }
    }
    // 3. Negatives. The 100k synthetic people are also reported in two halves (the first and
    // the second half of each file): the matcher's person rules were developed looking only
    // at the first halves' false hits, so the second halves are held out.
    let mut negatives = Vec::new();
    let mut first_half = Vec::new();
    for f in ["negatives_global.csv", "negatives_us.csv"] {
        let rows = read_persons(&dir.join(f))?;
        let half = rows.len() / 2;
        first_half.extend((0..rows.len()).map(|i| i < half));
        negatives.extend(rows);
    }
    let congress = read_persons(&dir.join("positives_us_congress_untreated.csv"))?;
    let all_base = Baseline::new(m.entries());
    for (set, rows, halves) in [
        ("synthetic_people_100k", &negatives, Some(&first_half)),
        ("us_congress_pep", &congress, None),
    ] {
        for ev in Evidence::ALL {
            // Per row: the best hit on any list (entry index), and whether a hit is on the UN list.
            let outcome: Vec<(Option<(usize, String)>, bool)> = rows
                .iter()
                .map(|p| {
                    let hits = m.screen(&ev.query(p));
                    (
                        hits.first()
                            .map(|h| (h.entry_index, h.matched_name.clone())),
                        hits.iter().any(|h| h.list == "un"),
                    )
                })
                .collect();
            let mut subsets: Vec<(String, Vec<bool>)> =
                vec![(set.to_string(), vec![true; rows.len()])];
            if let Some(h) = halves {
                subsets.push((format!("{set}: 1st halves (dev)"), h.clone()));
                subsets.push((
                    format!("{set}: 2nd halves (held out)"),
                    h.iter().map(|x| !x).collect(),
                ));
            }
            for (label, keep) in subsets {
                let n = keep.iter().filter(|&&k| k).count();
                let (mut fh, mut fh_un) = (0usize, 0usize);
                let mut examples = Vec::new();
                // Entry -> (false hits, first query, the list name it matched).
                let mut by_entry: AHashMap<usize, (usize, &str, &str)> = AHashMap::new();
                for ((p, (best, un)), _) in rows.iter().zip(&outcome).zip(&keep).filter(|(_, &k)| k)
                {
                    fh_un += usize::from(*un);
                    if let Some((e, matched)) = best {
                        let e = *e;
                        fh += 1;
                        by_entry.entry(e).or_insert((0, &p.name, matched)).0 += 1;
                        if examples.len() < 8 {
                            let en = &m.entries()[e];
                            examples
                                .push(format!("{} -> {} {}:{}", p.name, en.name, en.list, en.id));
                        }
                    }
                }
                let mut by_entry: Vec<(String, usize)> = by_entry
                    .into_iter()
                    .map(|(e, (c, q, matched))| {
                        let en = &m.entries()[e];
                        (format!("{}:{} {matched:?} (e.g. {q:?})", en.list, en.id), c)
                    })
                    .collect();
                by_entry.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                for (method, hits, by_entry, examples) in [
                    (ev.label().to_string(), fh, by_entry, examples),
                    (
                        format!("{} (UN list only)", ev.label()),
                        fh_un,
                        Vec::new(),
                        Vec::new(),
                    ),
                ] {
                    rep.false_hits.push(FalseHitMetrics {
                        method,
                        set: label.clone(),
                        threshold: thr,
                        names: n,
                        false_hits: hits,
                        per_1000: hits as f64 * 1000.0 / n.max(1) as f64,
                        examples,
                        by_entry,
                    });
                }
            }
        }
        let mut sample: Vec<&Person> = rows.iter().collect();
        sample.shuffle(&mut ChaCha8Rng::seed_from_u64(opts.seed));
        sample.truncate(opts.baseline_negatives);
        let lowest = opts.baseline_thresholds.iter().cloned().fold(1.0, f64::min);
        let best: Vec<(f64, f64)> = sample
            .iter()
            .map(|p| {
                let hits = all_base.screen(&p.name, lowest);
                let all = hits.first().map(|x| x.1).unwrap_or(0.0);
                let un = hits
                    .iter()
                    .find(|x| m.entries()[x.0].list == "un")
                    .map(|x| x.1)
                    .unwrap_or(0.0);
                (all, un)
            })
            .collect();
        for &t in &opts.baseline_thresholds {
            for (label, un_only) in [("all lists", false), ("UN list only", true)] {
                let fh = best
                    .iter()
                    .filter(|b| if un_only { b.1 >= t } else { b.0 >= t })
                    .count();
                rep.false_hits.push(FalseHitMetrics {
                    method: format!("baseline_jw_sorted ({label})"),
                    set: format!("{set} (seeded sample)"),
                    threshold: t,
                    names: sample.len(),
                    false_hits: fh,
                    per_1000: fh as f64 * 1000.0 / sample.len().max(1) as f64,
                    examples: Vec::new(),
                    by_entry: Vec::new(),
                });
            }
        }
    }
    rep.seconds = start.elapsed().as_secs_f64();
    Ok(rep)
}

/// Human-readable report.
pub fn print_report(r: &EvalReport) {
    println!(
        "Borderline screening evaluation (seed {}, {} indexed list names, {:.1} s)",
        r.seed, r.lists_names, r.seconds
    );
    println!("\nCompany/vessel pairs (generated, seeded):");
    println!(
        "  {:<36} {:>6} {:>6} {:>9} {:>7}",
        "method", "thr", "pairs", "precision", "recall"
    );
    for p in &r.pairs {
        println!(
            "  {:<36} {:>6.2} {:>6} {:>9.3} {:>7.3}",
            p.method, p.threshold, p.pairs, p.precision, p.recall
        );
    }
    if let Some(p) = r.pairs.first() {
        println!("  borderline accuracy by category:");
        for (c, n, acc) in &p.by_category {
            println!("    {c:<28} n={n:<5} accuracy {acc:.3}");
        }
    }
    if let Some(rr) = r.retrieval_recall {
        println!("  retrieval: true variants whose source entry `screen` returns: {rr:.3}");
    }
    if !r.recall.is_empty() {
        println!("\nUN positives (must hit the named UN entry):");
        println!(
            "  {:<36} {:<22} {:>6} {:>6} {:>7} {:>9}",
            "method", "set", "thr", "rows", "recall", "precision"
        );
        for x in &r.recall {
            println!(
                "  {:<36} {:<22} {:>6.2} {:>6} {:>7.3} {:>9.3}",
                x.method, x.set, x.threshold, x.rows, x.recall, x.precision
            );
        }
    }
    for x in r.recall.iter().filter(|x| !x.missed.is_empty()) {
        println!(
            "  missed by {} on {}: {}",
            x.method,
            x.set,
            x.missed
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !r.false_hits.is_empty() {
        println!("\nNegatives (any hit is a false hit):");
        println!(
            "  {:<40} {:<46} {:>6} {:>7} {:>6} {:>8}",
            "method", "set", "thr", "names", "hits", "per 1k"
        );
        for x in &r.false_hits {
            println!(
                "  {:<40} {:<46} {:>6.2} {:>7} {:>6} {:>8.3}",
                x.method, x.set, x.threshold, x.names, x.false_hits, x.per_1000
            );
        }
        // Which list entries the false hits come from (whole sets; the halves repeat them).
        for x in r
            .false_hits
            .iter()
            .filter(|x| !x.by_entry.is_empty() && !x.set.contains("halves"))
        {
            println!(
                "\n  false hits of {} on {}, by list entry:",
                x.method, x.set
            );
            for (e, c) in &x.by_entry {
                println!("    {c:>3}  {e}");
            }
        }
    }
    for n in &r.notes {
        println!("\nnote: {n}");
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub names: usize,
    pub indexed_names: usize,
    pub seconds: f64,
    pub names_per_second: f64,
    /// CPU time of the benchmark thread (see [`thread_cpu_seconds`]).
    pub cpu_seconds: f64,
    pub names_per_cpu_second: f64,
    pub cpu_p50_us: f64,
    pub cpu_p99_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub baseline_names: usize,
    pub baseline_names_per_second: f64,
    pub baseline_p99_us: f64,
}

/// CPU time of the calling thread in seconds (Linux `CLOCK_THREAD_CPUTIME_ID`). The speed
/// benchmark reports it beside wall time because the shared build machines are often
/// oversubscribed, which inflates wall time but not the CPU a query costs.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` only writes the timespec we pass, which lives on our stack.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Speed benchmark on one thread: `queries` screened one by one against all loaded lists,
/// then the baseline on the first `baseline_n` of them.
pub fn bench(m: &Matcher, queries: &[Query], baseline_n: usize) -> BenchReport {
    let mut lat = Vec::with_capacity(queries.len());
    let mut cpu_lat = Vec::with_capacity(queries.len());
    // Warm-up: page in the index and the thread-local accumulator.
    let mut sink = queries
        .iter()
        .take(200)
        .map(|q| m.screen(q).len())
        .sum::<usize>();
    let t0 = Instant::now();
    let c0 = thread_cpu_seconds();
    for q in queries {
        let t = Instant::now();
        let c = thread_cpu_seconds();
        sink += m.screen(q).len();
        cpu_lat.push((thread_cpu_seconds() - c) * 1e6);
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let cpu_secs = thread_cpu_seconds() - c0;
    let secs = t0.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    cpu_lat.sort_by(f64::total_cmp);
    let base = Baseline::new(m.entries());
    let mut blat = Vec::new();
    let tb = Instant::now();
    for q in queries.iter().take(baseline_n) {
        let t = Instant::now();
        sink += base.screen(&q.name, 0.94).len();
        blat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let bsecs = tb.elapsed().as_secs_f64();
    blat.sort_by(f64::total_cmp);
    std::hint::black_box(sink);
    BenchReport {
        names: queries.len(),
        indexed_names: m.name_count(),
        seconds: secs,
        names_per_second: queries.len() as f64 / secs.max(1e-9),
        cpu_seconds: cpu_secs,
        names_per_cpu_second: queries.len() as f64 / cpu_secs.max(1e-9),
        cpu_p50_us: pct(&cpu_lat, 0.5),
        cpu_p99_us: pct(&cpu_lat, 0.99),
        p50_us: pct(&lat, 0.5),
        p99_us: pct(&lat, 0.99),
        max_us: lat.last().copied().unwrap_or(0.0),
        baseline_names: blat.len(),
        baseline_names_per_second: blat.len() as f64 / bsecs.max(1e-9),
        baseline_p99_us: pct(&blat, 0.99),
    }
}

/// Benchmark queries: people from name-matching-dev when present (negatives and UN positives),
/// plus generated company variants and non-matches, shuffled with `seed`.
pub fn bench_queries(m: &Matcher, n: usize, seed: u64, dev_dir: Option<&Path>) -> Vec<Query> {
    let mut qs: Vec<Query> = pairs::generate(m.entries(), seed, n / 4, n / 4)
        .into_iter()
        .map(|p| Query::name(p.query).schema(p.schema))
        .collect();
    if let Some(dir) = find_dev_dir(dev_dir) {
        for f in [
            "negatives_global.csv",
            "positives_un_treated.csv",
            "negatives_us.csv",
        ] {
            if let Ok(rows) = read_people(&dir.join(f)) {
                qs.extend(
                    rows.into_iter()
                        .take(n / 4)
                        .map(|(nm, cc)| Query::name(nm).schema(Schema::Person).country(cc)),
                );
            }
        }
    }
    qs.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    qs.truncate(n);
    qs
}
