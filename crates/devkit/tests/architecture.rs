//! The dependency direction of ARCHITECTURE.md, checked from `cargo metadata`: a wrong
//! dependency fails CI. Each rule is one named Architecture Invariant.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Normal (non-dev, non-build), non-optional dependencies of each package, by name. Only the
/// workspace's own manifests are read (`--no-deps`: no registry access, no other platform's
/// packages); a banned library is caught as the direct dependency of one of our crates.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in meta["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("name").to_string();
        let deps = g.entry(name).or_default();
        for d in p["dependencies"].as_array().expect("dependencies") {
            let normal = d["kind"].is_null();
            let optional = d["optional"].as_bool().unwrap_or(false);
            if normal && !optional {
                deps.insert(d["name"].as_str().expect("dep name").to_string());
            }
        }
    }
    g
}

/// Every package `root` reaches through normal, non-optional dependencies.
fn closure(g: &BTreeMap<String, BTreeSet<String>>, root: &str) -> BTreeSet<String> {
    assert!(
        g.contains_key(root),
        "{root} is not a package of the workspace"
    );
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_string()];
    while let Some(p) = todo.pop() {
        for d in g.get(&p).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

fn assert_free_of(root: &str, banned: &[&str]) {
    let reach = closure(&graph(), root);
    let found: Vec<&&str> = banned.iter().filter(|b| reach.contains(**b)).collect();
    assert!(found.is_empty(), "{root} must not depend on {found:?}");
}

const PRODUCT: &[&str] = &[
    "borderline-core",
    "borderline-ingest",
    "borderline-targeting",
    "borderline-training",
    "borderline-valuation",
    "borderline-hs",
    "borderline-screening",
    "borderline-governance",
    "borderline-store-sqlite",
    "borderline-store-postgres",
    "borderline-app",
];

/// The governance store engines. Only the front end (`borderline-cli`) chooses and opens one;
/// tests may use them as dev-dependencies.
const STORES: &[&str] = &["borderline-store-sqlite", "borderline-store-postgres"];

#[test]
fn the_model_crate_never_links_lightgbm_sqlite_or_cli_libraries() {
    assert_free_of(
        "borderline-targeting",
        &[
            "lightgbm3",
            "lightgbm3-sys",
            "rusqlite",
            "postgres",
            "tokio-postgres",
            "clap",
            "anyhow",
            "borderline-training",
        ],
    );
}

#[test]
fn the_application_core_without_training_links_no_lightgbm_sqlite_or_clap() {
    assert_free_of(
        "borderline-app",
        &["lightgbm3", "lightgbm3-sys", "rusqlite", "clap", "anyhow"],
    );
}

#[test]
fn the_application_core_never_depends_on_a_store_engine() {
    // The use cases take `&dyn GovernanceStore`; which store is the caller's choice.
    let mut banned = STORES.to_vec();
    banned.extend(["rusqlite", "postgres", "tokio-postgres", "r2d2", "sqlx"]);
    assert_free_of("borderline-app", &banned);
}

#[test]
fn only_the_command_line_opens_a_store_engine() {
    let g = graph();
    for (package, deps) in &g {
        if package == "borderline-cli" {
            continue;
        }
        let direct: Vec<&&str> = STORES.iter().filter(|s| deps.contains(**s)).collect();
        assert!(
            direct.is_empty(),
            "{package} depends on {direct:?}: only borderline-cli (and tests) may"
        );
    }
}

#[test]
fn no_crate_links_sqlx_beside_rusqlite() {
    // Both link SQLite; they cannot share a lockfile (PostgreSQL goes through `postgres`).
    for package in graph().keys() {
        assert_free_of(package, &["sqlx"]);
    }
}

#[test]
fn core_and_the_atomic_file_writer_depend_on_no_other_borderline_crate() {
    let g = graph();
    for leaf in [
        "borderline-core",
        "borderline-atomic-file",
        "borderline-bench-clock",
    ] {
        let ours: Vec<String> = closure(&g, leaf)
            .into_iter()
            .filter(|p| p.starts_with("borderline-"))
            .collect();
        assert!(ours.is_empty(), "{leaf} depends on {ours:?}");
    }
}

#[test]
fn the_benchmark_clock_is_linked_by_no_product_code() {
    // Benchmark examples only (a dev-dependency): nothing that ships times itself with it.
    for package in graph().keys().filter(|p| *p != "borderline-bench-clock") {
        assert_free_of(package, &["borderline-bench-clock"]);
    }
}

#[test]
fn analytic_crates_carry_no_command_line_code() {
    for c in [
        "borderline-core",
        "borderline-ingest",
        "borderline-valuation",
        "borderline-hs",
        "borderline-screening",
        "borderline-governance",
        "borderline-training",
    ] {
        assert_free_of(c, &["clap", "anyhow", "indicatif"]);
    }
}

#[test]
fn nothing_below_the_application_core_depends_on_it_or_on_front_ends() {
    for c in PRODUCT.iter().filter(|c| **c != "borderline-app") {
        assert_free_of(
            c,
            &["borderline-app", "borderline-cli", "borderline-devkit"],
        );
    }
}

#[test]
fn no_product_crate_depends_on_development_tools() {
    for c in PRODUCT {
        assert_free_of(c, &["borderline-devkit", "borderline-cli"]);
    }
}

#[test]
fn analytic_modules_do_not_know_targeting_or_governance() {
    for c in [
        "borderline-valuation",
        "borderline-hs",
        "borderline-screening",
    ] {
        assert_free_of(
            c,
            &[
                "borderline-targeting",
                "borderline-training",
                "borderline-governance",
            ],
        );
    }
}

#[test]
fn governance_domain_rules_know_no_storage_engine() {
    assert_free_of(
        "borderline-governance",
        &["rusqlite", "postgres", "tokio-postgres", "r2d2", "sqlx"],
    );
}

#[test]
fn the_sqlite_store_keeps_records_and_knows_no_workflow() {
    assert_free_of(
        "borderline-store-sqlite",
        &[
            "borderline-app",
            "borderline-targeting",
            "borderline-training",
            "clap",
            "anyhow",
        ],
    );
}

#[test]
fn the_server_holds_no_workflow_and_only_the_cli_depends_on_it() {
    let g = graph();
    // The server's own crates: the application core, the governance types it authorizes
    // with, and core types. No analytic module, store engine, trainer or CLI directly.
    let ours: Vec<&String> = g["borderline-server"]
        .iter()
        .filter(|d| d.starts_with("borderline-"))
        .collect();
    for d in &ours {
        assert!(
            [
                "borderline-app",
                "borderline-governance",
                "borderline-core",
                "borderline-store-sqlite",
            ]
            .contains(&d.as_str()),
            "borderline-server must not depend on {d}"
        );
    }
    assert_free_of(
        "borderline-server",
        &[
            "borderline-training",
            "lightgbm3",
            "lightgbm3-sys",
            "borderline-cli",
            "borderline-devkit",
            "clap",
            "anyhow",
        ],
    );
    for p in g
        .keys()
        .filter(|p| *p != "borderline-cli" && *p != "borderline-server")
    {
        assert!(
            !closure(&g, p).contains("borderline-server"),
            "{p} must not depend on borderline-server (only the CLI starts it)"
        );
    }
}

#[test]
fn the_application_core_does_not_depend_on_the_server_or_a_web_framework() {
    assert_free_of(
        "borderline-app",
        &["borderline-server", "axum", "tokio", "hyper"],
    );
}

#[test]
fn the_postgres_store_keeps_records_and_knows_no_workflow() {
    assert_free_of(
        "borderline-store-postgres",
        &[
            "borderline-app",
            "borderline-targeting",
            "borderline-training",
            "borderline-store-sqlite",
            "rusqlite",
            "clap",
            "anyhow",
        ],
    );
}

#[test]
fn the_stream_plumbing_holds_no_workflow_and_only_the_cli_depends_on_it() {
    let g = graph();
    // The worker crate: NATS and the async runtime around `borderline_app::stream`; it
    // decides nothing itself and chooses no store engine (the CLI opens the store).
    for d in g["borderline-worker"]
        .iter()
        .filter(|d| d.starts_with("borderline-"))
    {
        assert!(
            ["borderline-app", "borderline-governance", "borderline-core"].contains(&d.as_str()),
            "borderline-worker must not depend on {d}"
        );
    }
    assert_free_of(
        "borderline-worker",
        &[
            "borderline-training",
            "lightgbm3",
            "lightgbm3-sys",
            "rusqlite",
            "postgres",
            "borderline-cli",
            "borderline-devkit",
            "borderline-server",
            "clap",
            "anyhow",
        ],
    );
    for p in g.keys().filter(|p| *p != "borderline-cli") {
        assert!(
            !g[p].contains("borderline-worker"),
            "{p} depends on borderline-worker: only borderline-cli may"
        );
    }
    // The application core stays synchronous and transport-free.
    assert_free_of("borderline-app", &["async-nats", "tokio", "futures-util"]);
}
