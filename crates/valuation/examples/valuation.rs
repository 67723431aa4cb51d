//! Stand-alone runner for the `valuation` command group (same code as `borderline valuation ...`):
//! `cargo run --release -p borderline-valuation --example valuation -- valuation evaluate`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "borderline")]
struct Cli {
    #[command(subcommand)]
    command: borderline_valuation::cli::Command,
}

fn main() -> anyhow::Result<()> {
    borderline_valuation::cli::run(Cli::parse().command)
}
