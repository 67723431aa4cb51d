//! `borderline`: command-line shell over the Borderline libraries. Each subcommand parses its
//! arguments and calls one library function; no analytics live here.

// The application's error type carries file, line and field context; it is moved only when a
// command fails (the per-row Ok path is zero-sized), so its size costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

use clap::{Parser, Subcommand};

mod accounts;
mod bench;
mod bench_queue;
mod governance;
mod hs;
mod network;
mod output;
mod screen;
mod serve;
mod store;
mod stream;
mod targeting;
mod valuation;

#[derive(Parser)]
#[command(
    name = "borderline",
    version,
    about = "AI-driven customs risk targeting"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Targeting(targeting::Command),
    #[command(flatten)]
    Valuation(valuation::Command),
    /// Throughput benchmarks (see scripts/bench.sh).
    #[command(subcommand, hide = true)]
    Bench(bench::BenchCommand),
    /// Print version information.
    Version,
    // -- module command groups: one flattened line each (e.g. `#[command(flatten)] Screening(screen::Command),`)
    #[command(flatten)]
    Screening(screen::Command),
    #[command(flatten)]
    Hs(hs::Command),
    #[command(flatten)]
    Governance(governance::Command),
    #[command(flatten)]
    Accounts(accounts::Command),
    /// The HTTP API (see README: start the service, first admin, tokens).
    Serve(serve::ServeArgs),
    #[command(flatten)]
    Stream(stream::Command),
}

/// Restores the default action of SIGPIPE, which the Rust runtime ignores: a closed pipe
/// (`borderline score ... | head`) then ends the process quietly, as it does every Unix filter,
/// instead of failing every later write with "Broken pipe".
#[cfg(unix)]
fn end_quietly_on_closed_pipe() {
    // SAFETY: called in main right after argument parsing, before any thread exists; it only
    // resets a signal disposition to the system default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn end_quietly_on_closed_pipe() {}

/// Exit status: 0 success; 1 any failure (unreadable or unusable input, a file in which no row
/// was accepted, a broken audit chain, a refused governance action); 2 a usage error (and
/// `hs validate` of an invalid code). Documented in README.md.
fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Filters end quietly on a closed pipe; the server keeps the runtime's default (its sockets
    // report a closed peer as an error on that connection only).
    if !matches!(cli.command, Command::Serve(_)) {
        end_quietly_on_closed_pipe();
    }
    match cli.command {
        Command::Targeting(c) => targeting::run(c)?,
        Command::Valuation(c) => valuation::run(c)?,
        Command::Bench(c) => bench::run(c)?,
        Command::Version => println!("borderline {}", env!("CARGO_PKG_VERSION")),
        // -- module dispatch: one arm each (e.g. `Command::Screening(c) => screen::run(c)?,`)
        Command::Screening(c) => screen::run(c)?,
        Command::Hs(c) => hs::run(c)?,
        Command::Governance(c) => governance::run(c)?,
        Command::Accounts(c) => accounts::run(c)?,
        Command::Serve(a) => serve::run(a)?,
        Command::Stream(c) => stream::run(c)?,
    }
    Ok(())
}
