//! The screening command groups: `borderline screen ...`, `borderline lists`,
//! `borderline network ...`: arguments, one call to `borderline_app::screening` (or the
//! evaluation in `borderline-devkit`), printing.

use crate::output::Output;
use anyhow::{bail, Context};
use borderline_app::screening::{self as app, ListChoice, ListFile, Party};
use borderline_devkit::screening::eval::{self, EvalOptions};
use borderline_screening::{Hit, ListStore, Matcher, Schema};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Screen party names against the sanctions and forced-labour lists.
    Screen(Box<ScreenArgs>),
    /// Show the loaded watchlists with entry counts, list dates and malformed lines.
    Lists(ListsArgs),
    /// Supplier-network exposure of declarations to listed entities.
    Network(crate::network::NetworkArgs),
}

/// Which lists to load.
#[derive(Debug, Clone, Args, Default)]
pub struct ListOptions {
    /// Load (or replace) a list: KEY=FORMAT:PATH, FORMAT one of ofac-csv (a directory),
    /// un-xml, bis-dpl, csl-csv, simple-csv. Repeatable. A list with the key of a bundled one
    /// replaces it (e.g. --list ofac_sdn=ofac-csv:./sdn_2026/).
    #[arg(long = "list", value_name = "KEY=FORMAT:PATH", global = true)]
    pub lists: Vec<String>,
    /// Do not load the lists bundled with Borderline.
    #[arg(long, global = true)]
    pub no_bundled: bool,
}

impl ListOptions {
    /// The lists the options name, parsed from `KEY=FORMAT:PATH`.
    pub fn choice(&self) -> anyhow::Result<ListChoice> {
        let mut files = Vec::new();
        for spec in &self.lists {
            let (key, format, path) = spec
                .split_once('=')
                .and_then(|(k, rest)| rest.split_once(':').map(|(f, p)| (k, f, p)))
                .with_context(|| format!("--list {spec:?}: expected KEY=FORMAT:PATH"))?;
            files.push(ListFile {
                key: key.to_string(),
                format: format.parse().with_context(|| format!("--list {spec:?}"))?,
                path: PathBuf::from(path),
            });
        }
        Ok(ListChoice {
            no_bundled: self.no_bundled,
            files,
        })
    }

    /// Loads the lists, warning about malformed lines of the user's files.
    pub fn store(&self) -> anyhow::Result<ListStore> {
        let lists = app::load_lists(&self.choice()?)?;
        for (file, issues) in &lists.issues {
            for i in issues.iter().take(20) {
                eprintln!("warning: {i}");
            }
            if issues.len() > 20 {
                eprintln!(
                    "warning: {} more malformed lines in {}",
                    issues.len() - 20,
                    file.path.display()
                );
            }
        }
        Ok(lists.store)
    }
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScreenArgs {
    #[command(subcommand)]
    pub command: Option<ScreenCommand>,
    /// Name to screen.
    pub name: Option<String>,
    #[command(flatten)]
    pub q: QueryOptions,
    /// Batch: screen every row of this CSV (column `name`, optional `schema`, `country`,
    /// `address`, `birth_date`, `id`) or JSON Lines file (same keys). Output in the same format.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Batch output file (default: standard output).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Print JSON instead of text (single name).
    #[arg(long)]
    pub json: bool,
    /// Maximum hits per name.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[command(flatten)]
    pub lists: ListOptions,
}

#[derive(Debug, Clone, Args)]
pub struct QueryOptions {
    /// Kind of party: company, person, vessel, aircraft (default: any).
    #[arg(long, value_parser = parse_schema)]
    pub schema: Option<Schema>,
    /// Country of the party (ISO code or name): evidence for or against a hit.
    #[arg(long)]
    pub country: Option<String>,
    /// Address of the party: evidence for a hit.
    #[arg(long)]
    pub address: Option<String>,
    /// Date or year of birth of a person ("1965", "1965-04-29"): evidence for or against
    /// person entries that give years of birth.
    #[arg(long)]
    pub birth_date: Option<String>,
    /// Report hits at or above this score (default 0.85).
    #[arg(long)]
    pub threshold: Option<f64>,
}

fn parse_schema(s: &str) -> Result<Schema, String> {
    s.parse()
}

#[derive(Debug, Subcommand)]
pub enum ScreenCommand {
    /// Score two names against each other and explain the score; or a CSV of pairs with --input.
    Compare(CompareArgs),
    /// Precision/recall on generated company pairs and the UN people sets, false hits on 100k
    /// synthetic people, with the token-sorted Jaro-Winkler baseline alongside.
    Evaluate(EvaluateArgs),
    /// Speed: screened names per second on one core and latency percentiles, with the baseline.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    pub name1: Option<String>,
    pub name2: Option<String>,
    #[arg(long, value_parser = parse_schema)]
    pub schema: Option<Schema>,
    /// CSV with columns name1,name2[,schema] (header optional); writes the rows with `score`
    /// appended.
    #[arg(long)]
    pub input: Option<PathBuf>,
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub lists: ListOptions,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of generated company/vessel pairs (half matches, half hard non-matches).
    #[arg(long, default_value_t = 2000)]
    pub pairs: usize,
    /// Directory of name-matching-dev (default: ../shared/data/name-matching-dev).
    #[arg(long)]
    pub dev_dir: Option<PathBuf>,
    /// How many negatives the brute-force baseline runs on (seeded sample).
    #[arg(long, default_value_t = 1000)]
    pub baseline_negatives: usize,
    #[arg(long)]
    pub threshold: Option<f64>,
    #[command(flatten)]
    pub lists: ListOptions,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 20000)]
    pub names: usize,
    #[arg(long, default_value_t = 300)]
    pub baseline_names: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long)]
    pub dev_dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    /// Instead: time screening very long names (25,000 to 400,000 characters, one token and
    /// many words; the matcher has no length limit) against the 100,000-character run as the
    /// baseline, median of 3 runs of different names each (issue 14: the cost must grow
    /// linearly), with the fuzzy-retrieval probes of each.
    #[arg(long)]
    pub long_names: bool,
    #[command(flatten)]
    pub lists: ListOptions,
}

#[derive(Debug, Args)]
pub struct ListsArgs {
    #[arg(long)]
    pub json: bool,
    /// Also print every malformed line.
    #[arg(long)]
    pub issues: bool,
    #[command(flatten)]
    pub lists: ListOptions,
}

pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Screen(a) => run_screen(*a),
        Command::Lists(a) => run_lists(a),
        Command::Network(a) => crate::network::run(a),
    }
}

fn matcher(lists: &ListOptions, threshold: Option<f64>) -> anyhow::Result<Matcher> {
    Ok(app::matcher(&lists.store()?, threshold)?)
}

fn run_lists(a: ListsArgs) -> anyhow::Result<()> {
    let store = a.lists.store()?;
    let sums = store.summaries();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&sums)?);
        return Ok(());
    }
    println!(
        "{:<24} {:>8} {:>8} {:>7}  {:<11} title (source)",
        "list", "entries", "names", "issues", "date"
    );
    for s in &sums {
        println!(
            "{:<24} {:>8} {:>8} {:>7}  {:<11} {} ({})",
            s.key, s.entries, s.names, s.issues, s.date, s.title, s.source
        );
    }
    if a.issues {
        for l in store.lists() {
            for i in &l.issues {
                println!("{i}");
            }
        }
    }
    Ok(())
}

fn print_hit(h: &Hit) {
    println!(
        "{:.3}  {}:{}  {}  [{}]  {}",
        h.score,
        h.list,
        h.entry_id,
        h.matched_name,
        h.schema.as_str(),
        h.programs.join(", ")
    );
    if h.matched_name != h.entry_name {
        println!("       entry: {}", h.entry_name);
    }
    println!("       {}", h.explanation.summary());
}

impl QueryOptions {
    /// The evidence the options give, for `name`.
    fn party(&self, name: String) -> Party {
        Party {
            id: None,
            name,
            schema: self.schema.map(|s| s.as_str().to_string()),
            country: self.country.clone(),
            address: self.address.clone(),
            birth_date: self.birth_date.clone(),
        }
    }
}

fn run_screen(a: ScreenArgs) -> anyhow::Result<()> {
    match a.command {
        Some(ScreenCommand::Compare(c)) => return run_compare(c),
        Some(ScreenCommand::Evaluate(e)) => return run_evaluate(e),
        Some(ScreenCommand::Bench(b)) => return run_bench(b),
        None => {}
    }
    let m = matcher(&a.lists, a.q.threshold)?;
    if let Some(input) = &a.input {
        let mut out = Output::to(a.output.as_deref())?;
        let done = app::screen_file(&m, input, &a.q.party(String::new()), a.limit, &mut out)?;
        out.finish()?;
        for s in &done.skipped {
            eprintln!("skipped {s}");
        }
        if !done.skipped.is_empty() {
            eprintln!("{} malformed input rows skipped", done.skipped.len());
        }
        return Ok(());
    }
    let Some(name) = a.name else {
        bail!("give a NAME to screen, or --input FILE (see `screen --help`)");
    };
    let party = a.q.party(name);
    let hits = app::screen_party(&m, &party, a.limit)?;
    let region = app::region_flag(&party);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"hits": hits, "region_flag": region})
            )?
        );
        return Ok(());
    }
    if let Some(r) = &region {
        println!("forced-labour region: {}", r.reason_text("the address"));
    }
    if hits.is_empty() {
        println!("no hit at or above {:.2}", m.config.threshold);
    } else {
        for h in &hits {
            print_hit(h);
        }
    }
    Ok(())
}

fn run_compare(c: CompareArgs) -> anyhow::Result<()> {
    let m = matcher(&c.lists, None)?;
    let schema = c.schema.unwrap_or_default();
    if let Some(input) = &c.input {
        let mut out = Output::to(c.output.as_deref())?;
        let notes = app::compare_file(&m, input, schema, &mut out)?;
        out.finish()?;
        for n in &notes {
            eprintln!("{n}");
        }
        return Ok(());
    }
    let (Some(a), Some(b)) = (c.name1, c.name2) else {
        bail!("give NAME1 NAME2, or --input pairs.csv");
    };
    let r = app::compare(&m, &a, &b, schema)?;
    if c.json {
        println!(
            "{}",
            serde_json::json!({"name1": a, "name2": b, "score": r.score, "explanation": r.explanation, "summary": r.explanation.summary(), "match": r.is_match})
        );
    } else {
        println!(
            "score {:.3} ({} at threshold {:.2})",
            r.score,
            if r.is_match { "match" } else { "no match" },
            m.config.threshold
        );
        println!("{}", r.explanation.summary());
    }
    Ok(())
}

fn run_evaluate(e: EvaluateArgs) -> anyhow::Result<()> {
    let m = matcher(&e.lists, e.threshold)?;
    let opts = EvalOptions {
        seed: e.seed,
        pairs: e.pairs,
        dev_dir: e.dev_dir,
        baseline_negatives: e.baseline_negatives,
        ..Default::default()
    };
    let rep = eval::evaluate(&m, &opts)?;
    if e.json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        eval::print_report(&rep);
    }
    Ok(())
}

/// Median seconds of 3 screenings of `make(run)` (a fresh name per run, so no per-thread
/// lookup cache helps), and the fuzzy-retrieval probes of the first.
fn time_screen(m: &borderline_screening::Matcher, make: impl Fn(u64) -> String) -> (f64, u64) {
    let mut probes = 0;
    let mut secs: Vec<f64> = (0..3)
        .map(|run| {
            let q = borderline_screening::Query::name(make(run));
            let before = borderline_screening::fuzzy_probes();
            let t = std::time::Instant::now();
            std::hint::black_box(m.screen(&q));
            let s = t.elapsed().as_secs_f64();
            if run == 0 {
                probes = borderline_screening::fuzzy_probes() - before;
            }
            s
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    (secs[1], probes)
}

/// Distinct pseudo-random lower-case words of 5 to 12 letters, `chars` characters in all.
fn words_of(chars: usize, seed: u64) -> String {
    let mut x = seed | 1;
    let mut out = String::with_capacity(chars + 16);
    while out.len() < chars {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if !out.is_empty() {
            out.push(' ');
        }
        for k in 0..5 + (x % 8) as usize {
            out.push((b'a' + ((x >> (5 * k)) % 26) as u8) as char);
        }
    }
    out.truncate(chars);
    out
}

fn run_long_names(b: &BenchArgs) -> anyhow::Result<()> {
    let m = matcher(&b.lists, None)?;
    let sizes = [25_000usize, 50_000, 100_000, 200_000, 400_000];
    type Make = fn(usize, u64) -> String;
    let one_token: Make = |n, run| {
        let letters = ["abcdefghij", "bcdefghijk", "cdefghijkl"][run as usize % 3];
        letters.repeat(n / 10)
    };
    let many_words: Make = |n, run| words_of(n, 7 + run);
    for (label, make) in [("one token", one_token), ("many words", many_words)] {
        let runs: Vec<(usize, f64, u64)> = sizes
            .iter()
            .map(|&n| {
                let (s, p) = time_screen(&m, |run| make(n, run));
                (n, s, p)
            })
            .collect();
        let base = runs
            .iter()
            .find(|r| r.0 == 100_000)
            .map_or(f64::NAN, |r| r.1);
        println!("{label} (baseline: the 100,000-character name, median of 3):");
        for (n, s, p) in runs {
            println!(
                "  {n:>7} chars: {:>9.1} ms  x{:.2} of baseline for x{:.2} the length; {p} fuzzy probes",
                s * 1000.0,
                s / base,
                n as f64 / 100_000.0
            );
        }
    }
    Ok(())
}

fn run_bench(b: BenchArgs) -> anyhow::Result<()> {
    if b.long_names {
        return run_long_names(&b);
    }
    let t = std::time::Instant::now();
    let m = matcher(&b.lists, None)?;
    let build = t.elapsed().as_secs_f64();
    let qs = eval::bench_queries(&m, b.names, b.seed, b.dev_dir.as_deref());
    let rep = eval::bench(&m, &qs, b.baseline_names);
    if b.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"load_and_index_seconds": build, "bench": rep})
            )?
        );
    } else {
        println!(
            "lists loaded and indexed in {build:.2} s ({} name variants)",
            rep.indexed_names
        );
        println!(
            "borderline: {} names in {:.2} s on one thread = {:.0} names/s; p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            rep.names, rep.seconds, rep.names_per_second, rep.p50_us, rep.p99_us, rep.max_us
        );
        println!(
            "            thread CPU time {:.2} s = {:.0} names per CPU-second; CPU p50 {:.0} µs, p99 {:.0} µs",
            rep.cpu_seconds, rep.names_per_cpu_second, rep.cpu_p50_us, rep.cpu_p99_us
        );
        println!(
            "baseline (token-sorted Jaro-Winkler, every name): {} names, {:.1} names/s, p99 {:.0} µs",
            rep.baseline_names, rep.baseline_names_per_second, rep.baseline_p99_us
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// The same shape as `borderline`'s main: the screening commands flattened beside others.
    #[derive(Parser)]
    struct Shell {
        #[command(subcommand)]
        command: Top,
    }
    #[derive(clap::Subcommand)]
    #[allow(clippy::large_enum_variant)] // parsed once per test
    enum Top {
        Version,
        #[command(flatten)]
        Screening(Command),
    }

    fn parse(args: &[&str]) -> Command {
        let mut v = vec!["borderline"];
        v.extend_from_slice(args);
        match Shell::try_parse_from(v) {
            Ok(Shell {
                command: Top::Screening(c),
            }) => c,
            Ok(_) => panic!("{args:?} parsed as another command"),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }

    #[test]
    fn birth_date_is_an_option_and_must_hold_a_year() {
        match parse(&[
            "screen",
            "Zhang Wei",
            "--schema",
            "person",
            "--birth-date",
            "1961-05-02",
        ]) {
            Command::Screen(a) => assert_eq!(a.q.birth_date.as_deref(), Some("1961-05-02")),
            _ => panic!("not a screen command"),
        }
        let q = |birth: Option<&str>| {
            QueryOptions {
                schema: None,
                country: None,
                address: None,
                birth_date: birth.map(String::from),
                threshold: None,
            }
            .party("Zhang Wei".into())
            .query(&Party::default())
        };
        assert!(q(Some("1961")).is_ok());
        assert!(q(None).is_ok());
        assert!(q(Some("May 61")).is_err());
    }

    #[test]
    fn commands_parse_when_flattened() {
        Shell::command().debug_assert();
        match parse(&[
            "screen",
            "ACME LTD",
            "--schema",
            "company",
            "--country",
            "CN",
        ]) {
            Command::Screen(a) => {
                assert_eq!(a.name.as_deref(), Some("ACME LTD"));
                assert_eq!(a.q.schema, Some(Schema::Company));
            }
            other => panic!("{other:?}"),
        }
        match parse(&["screen", "compare", "A", "B", "--schema", "vessel"]) {
            Command::Screen(a) => match a.command {
                Some(ScreenCommand::Compare(c)) => {
                    assert_eq!(
                        (c.name1.as_deref(), c.name2.as_deref()),
                        (Some("A"), Some("B"))
                    )
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["screen", "evaluate", "--json"]),
            Command::Screen(_)
        ));
        assert!(matches!(
            parse(&["lists", "--list", "uflpa=simple-csv:x.csv"]),
            Command::Lists(_)
        ));
        assert!(matches!(
            parse(&[
                "network",
                "exposure",
                "--declaration",
                "97061800",
                "--hops",
                "3"
            ]),
            Command::Network(_)
        ));
        assert!(
            Shell::try_parse_from(["borderline", "screen", "X", "--schema", "spaceship"]).is_err()
        );
    }
}
