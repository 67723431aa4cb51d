//! Command-line interface of the screening module, flattened into `borderline`:
//! `borderline screen ...`, `borderline lists`, `borderline network ...`.

use crate::eval::{self, EvalOptions};
use crate::matcher::{Hit, MatchConfig, Matcher, Query};
use crate::model::Schema;
use crate::store::{ListFormat, ListStore};
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Screen party names against the sanctions and forced-labour lists.
    Screen(Box<ScreenArgs>),
    /// Show the loaded watchlists with entry counts, list dates and malformed lines.
    Lists(ListsArgs),
    /// Supplier-network exposure of declarations to listed entities.
    Network(crate::network_cli::NetworkArgs),
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
    pub fn store(&self) -> anyhow::Result<ListStore> {
        let mut store = if self.no_bundled {
            ListStore::new()
        } else {
            ListStore::bundled().context("loading bundled watchlists")?
        };
        for spec in &self.lists {
            let (key, rest) = spec
                .split_once('=')
                .with_context(|| format!("--list {spec:?}: expected KEY=FORMAT:PATH"))?;
            let (fmt, path) = rest
                .split_once(':')
                .with_context(|| format!("--list {spec:?}: expected KEY=FORMAT:PATH"))?;
            let format: ListFormat = fmt.parse()?;
            let list = store
                .load_file(key, format, &PathBuf::from(path), None)
                .with_context(|| format!("loading list {key} from {path}"))?;
            for i in list.issues.iter().take(20) {
                eprintln!("warning: {i}");
            }
            if list.issues.len() > 20 {
                eprintln!(
                    "warning: {} more malformed lines in {path}",
                    list.issues.len() - 20
                );
            }
        }
        Ok(store)
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
        Command::Network(a) => crate::network_cli::run(a),
    }
}

fn matcher(lists: &ListOptions, threshold: Option<f64>) -> anyhow::Result<Matcher> {
    let store = lists.store()?;
    let mut cfg = MatchConfig::default();
    if let Some(t) = threshold {
        if !(0.0..=1.0).contains(&t) {
            bail!("--threshold must be within [0, 1], got {t}");
        }
        cfg.threshold = t;
    }
    Ok(Matcher::build(&store, cfg))
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

/// A given date of birth must hold a four-digit year, else it would silently be no evidence.
fn resolve_birth_date(d: Option<&str>) -> Result<Option<String>, String> {
    match d {
        Some(d) if crate::model::birth_year(d).is_none() => {
            Err(format!("date of birth {d:?} holds no year (1900-2099)"))
        }
        d => Ok(d.map(String::from)),
    }
}

fn resolve_country(c: &Option<String>) -> anyhow::Result<Option<String>> {
    match c {
        None => Ok(None),
        Some(c) => crate::country::to_iso2(c)
            .map(Some)
            .with_context(|| format!("unrecognised country {c:?}")),
    }
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

/// A batch input row.
#[derive(Debug, Deserialize, Serialize, Default)]
struct BatchRow {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    birth_date: Option<String>,
}

#[derive(Debug, Serialize)]
struct BatchOut<'a> {
    id: Option<&'a str>,
    name: &'a str,
    hits: usize,
    best_score: Option<f64>,
    best_list: Option<&'a str>,
    best_entry_id: Option<&'a str>,
    best_name: Option<&'a str>,
    best_programs: String,
    explanation: String,
}

#[derive(Debug, Serialize)]
struct BatchJson<'a> {
    id: Option<&'a str>,
    name: &'a str,
    hits: &'a [Hit],
    error: Option<String>,
}

fn is_jsonl(p: &std::path::Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson" | "json")
    )
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
        return screen_batch(&m, input, a.output.as_ref(), &a.q, a.limit);
    }
    let Some(name) = a.name else {
        bail!("give a NAME to screen, or --input FILE (see `screen --help`)");
    };
    let q = Query::name(name)
        .schema(a.q.schema.unwrap_or_default())
        .country(resolve_country(&a.q.country)?)
        .address(a.q.address.clone())
        .birth_date(resolve_birth_date(a.q.birth_date.as_deref()).map_err(anyhow::Error::msg)?);
    let mut hits = m.screen(&q);
    hits.truncate(a.limit);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
    } else if hits.is_empty() {
        println!("no hit at or above {:.2}", m.config.threshold);
    } else {
        for h in &hits {
            print_hit(h);
        }
    }
    Ok(())
}

fn screen_batch(
    m: &Matcher,
    input: &std::path::Path,
    output: Option<&PathBuf>,
    opts: &QueryOptions,
    limit: usize,
) -> anyhow::Result<()> {
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let default_country = resolve_country(&opts.country)?;
    let make_query = |row: &BatchRow| -> Result<Query, String> {
        let schema = match &row.schema {
            Some(s) if !s.trim().is_empty() => s.parse::<Schema>()?,
            _ => opts.schema.unwrap_or_default(),
        };
        let country = match &row.country {
            Some(c) if !c.trim().is_empty() => Some(
                crate::country::to_iso2(c).ok_or_else(|| format!("unrecognised country {c:?}"))?,
            ),
            _ => default_country.clone(),
        };
        let birth = row
            .birth_date
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .or(opts.birth_date.as_deref());
        Ok(Query::name(row.name.clone())
            .schema(schema)
            .country(country)
            .address(row.address.clone().or_else(|| opts.address.clone()))
            .birth_date(resolve_birth_date(birth)?))
    };
    let mut bad = 0usize;
    if is_jsonl(input) {
        let f =
            std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let row: BatchRow = match serde_json::from_str(&line) {
                Ok(r) => r,
                Err(e) => {
                    bad += 1;
                    eprintln!("{}:{}: skipped: {e}", input.display(), i + 1);
                    continue;
                }
            };
            let (hits, error) = match make_query(&row) {
                Ok(q) => {
                    let mut h = m.screen(&q);
                    h.truncate(limit);
                    (h, None)
                }
                Err(e) => (Vec::new(), Some(e)),
            };
            let rec = BatchJson {
                id: row.id.as_deref(),
                name: &row.name,
                hits: &hits,
                error,
            };
            writeln!(out, "{}", serde_json::to_string(&rec)?)?;
        }
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(input)
            .with_context(|| format!("opening {}", input.display()))?;
        let mut w = csv::Writer::from_writer(out);
        for rec in rdr.deserialize::<BatchRow>() {
            let row = match rec {
                Ok(r) => r,
                Err(e) => {
                    bad += 1;
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    eprintln!("{}:{line}: skipped: {e}", input.display());
                    continue;
                }
            };
            let (hits, expl) = match make_query(&row) {
                Ok(q) => (m.screen(&q), String::new()),
                Err(e) => (Vec::new(), format!("error: {e}")),
            };
            let best = hits.first();
            w.serialize(BatchOut {
                id: row.id.as_deref(),
                name: &row.name,
                hits: hits.len(),
                best_score: best.map(|h| (h.score * 1000.0).round() / 1000.0),
                best_list: best.map(|h| h.list.as_str()),
                best_entry_id: best.map(|h| h.entry_id.as_str()),
                best_name: best.map(|h| h.matched_name.as_str()),
                best_programs: best.map(|h| h.programs.join("; ")).unwrap_or_default(),
                explanation: best.map(|h| h.explanation.summary()).unwrap_or(expl),
            })?;
        }
        w.flush()?;
        out = Box::new(std::io::sink());
    }
    out.flush()?;
    if bad > 0 {
        eprintln!("{bad} malformed input rows skipped");
    }
    Ok(())
}

fn run_compare(c: CompareArgs) -> anyhow::Result<()> {
    let m = matcher(&c.lists, None)?;
    let schema = c.schema.unwrap_or_default();
    if let Some(input) = &c.input {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(input)
            .with_context(|| format!("opening {}", input.display()))?;
        let out: Box<dyn Write> = match &c.output {
            Some(p) => Box::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            ),
            None => Box::new(std::io::stdout().lock()),
        };
        let mut w = csv::Writer::from_writer(out);
        for (i, rec) in rdr.records().enumerate() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{}: row {}: skipped: {e}", input.display(), i + 1);
                    continue;
                }
            };
            let (a, b) = (rec.get(0).unwrap_or(""), rec.get(1).unwrap_or(""));
            if i == 0 && a.eq_ignore_ascii_case("name1") && b.eq_ignore_ascii_case("name2") {
                let mut h: Vec<String> = rec.iter().map(String::from).collect();
                h.push("score".into());
                w.write_record(&h)?;
                continue;
            }
            if rec.len() < 2 {
                eprintln!(
                    "{}: row {}: skipped: expected name1,name2[,schema]",
                    input.display(),
                    i + 1
                );
                continue;
            }
            let s = match rec.get(2).filter(|s| !s.trim().is_empty()) {
                Some(s) => match s.parse::<Schema>() {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!(
                            "{}: row {}: {e}; scored as {}",
                            input.display(),
                            i + 1,
                            schema.as_str()
                        );
                        schema
                    }
                },
                None => schema,
            };
            let (score, _) = m.compare(a, b, s);
            let mut row: Vec<String> = rec.iter().map(String::from).collect();
            row.push(format!("{score:.4}"));
            w.write_record(&row)?;
        }
        w.flush()?;
        return Ok(());
    }
    let (Some(a), Some(b)) = (c.name1, c.name2) else {
        bail!("give NAME1 NAME2, or --input pairs.csv");
    };
    let (score, ex) = m.compare(&a, &b, schema);
    if c.json {
        println!(
            "{}",
            serde_json::json!({"name1": a, "name2": b, "score": score, "explanation": ex, "summary": ex.summary(), "match": score >= m.config.threshold})
        );
    } else {
        println!(
            "score {score:.3} ({} at threshold {:.2})",
            if score >= m.config.threshold {
                "match"
            } else {
                "no match"
            },
            m.config.threshold
        );
        println!("{}", ex.summary());
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

fn run_bench(b: BenchArgs) -> anyhow::Result<()> {
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
        assert_eq!(resolve_birth_date(Some("1961")), Ok(Some("1961".into())));
        assert_eq!(resolve_birth_date(None), Ok(None));
        assert!(resolve_birth_date(Some("May 61")).is_err());
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
