//! Stand-alone runner for the `hs` command group (same code as `borderline hs ...`), so the
//! module can be exercised without building the whole workspace:
//! `cargo run --release -p borderline-hs --example hs -- hs evaluate FILE`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "borderline")]
struct Cli {
    #[command(subcommand)]
    command: borderline_hs::cli::Command,
}

fn main() -> anyhow::Result<()> {
    borderline_hs::cli::run(Cli::parse().command)
}
