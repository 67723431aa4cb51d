//! `borderline`: command-line shell over the Borderline libraries. Each subcommand parses its
//! arguments and calls one library function; no analytics live here.

use clap::{Parser, Subcommand};

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
    /// Print version information.
    Version,
    // -- module command groups: one flattened line each (e.g. `#[command(flatten)] Screening(borderline_screening::cli::Command),`)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => println!("borderline {}", env!("CARGO_PKG_VERSION")),
        // -- module dispatch: one arm each (e.g. `Command::Screening(c) => borderline_screening::cli::run(c)?,`)
    }
    Ok(())
}
