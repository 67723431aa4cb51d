//! Stand-alone entry point for the screening commands (`borderline-screening screen ...`), used
//! for release-mode benchmarks and evaluation without building the whole CLI.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "borderline-screening",
    version,
    about = "Borderline sanctions and forced-labour screening"
)]
struct Cli {
    #[command(subcommand)]
    command: borderline_screening::cli::Command,
}

fn main() -> anyhow::Result<()> {
    borderline_screening::cli::run(Cli::parse().command)
}
