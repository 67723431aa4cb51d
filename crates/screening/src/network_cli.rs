//! `borderline network ...` (placeholder until the network module lands).
use clap::Args;

#[derive(Debug, Args)]
pub struct NetworkArgs {}

pub fn run(_a: NetworkArgs) -> anyhow::Result<()> {
    anyhow::bail!("network: not implemented yet")
}
