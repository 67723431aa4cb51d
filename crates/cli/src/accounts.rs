//! `borderline accounts ...` and `borderline tokens ...`: local accounts and API tokens.
//!
//! Secrets never travel in flags (shell history, `ps`): a password is the first line of
//! standard input, the acting administrator's token comes from `$BORDERLINE_TOKEN`, and a new
//! token is printed once. Each command is parsing, one `borderline_app::identity` call, printing.

use crate::store::{Location, Store};
use anyhow::{bail, Context, Result};
use borderline_app::identity;
use borderline_governance::identity::{Account, ApiToken, NewAccount, Principal};
use borderline_governance::Role;
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum Command {
    /// Local accounts (administrators; the first one with `accounts bootstrap`).
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// API tokens (administrators, or an account for its own tokens).
    #[command(subcommand)]
    Tokens(TokensCommand),
}

#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Governance database (default: $BORDERLINE_DB, else borderline.db here).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
}

impl StoreArgs {
    /// Where the store is: a SQLite file or a `postgres://` URL (see `crate::store`).
    pub fn location(&self) -> Location {
        Location::resolve(self.db.as_deref())
    }

    /// Opens the store; with `existing_only` a SQLite file must already exist.
    pub fn open(&self, existing_only: bool) -> Result<Store> {
        crate::store::open(self.db.as_deref(), existing_only)
    }
}

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Creates the first administrator on a store with no account (password: first line of
    /// stdin) and prints its first API token, once.
    Bootstrap {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Creates an account, acting as the administrator whose token is in $BORDERLINE_TOKEN.
    Create {
        id: String,
        /// officer, analyst, supervisor, auditor, admin or trader (repeat or comma-separate).
        #[arg(long = "role", value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Importer ids a trader account acts for (repeat or comma-separate).
        #[arg(long = "importer", value_delimiter = ',')]
        importers: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// Read a password from the first line of stdin (otherwise token-only).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disables an account: its password and every token stop working at once.
    Disable {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Issues a token for ACCOUNT and prints it once.
    Create {
        account: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Expires after this many days (default: never; revoke it instead).
        #[arg(long)]
        days: Option<u32>,
        #[command(flatten)]
        store: StoreArgs,
    },
    List {
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    Revoke {
        token_id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn open_existing(store: &StoreArgs) -> Result<Store> {
    store.open(true)
}

fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        bail!("give the password as the first line of stdin");
    }
    Ok(pw)
}

/// The acting account, from the token in $BORDERLINE_TOKEN.
fn acting(store: &Store) -> Result<Principal> {
    let Ok(token) = std::env::var("BORDERLINE_TOKEN") else {
        bail!("set BORDERLINE_TOKEN to an administrator's API token (from `accounts bootstrap` or `tokens create`)");
    };
    identity::authenticate_token(store, token.trim())
        .context("BORDERLINE_TOKEN does not authenticate (unknown, revoked or expired token, or a disabled account)")
}

fn parse_role(s: &str) -> Result<Role> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "officer" => Role::Officer,
        "analyst" => Role::Analyst,
        "supervisor" => Role::Supervisor,
        "auditor" => Role::Auditor,
        "admin" => Role::Admin,
        "trader" => Role::Trader,
        other => {
            bail!("unknown role {other:?}: officer, analyst, supervisor, auditor, admin or trader")
        }
    })
}

fn print_account(a: &Account) {
    let roles: Vec<String> = a
        .roles
        .iter()
        .map(|r| format!("{r:?}").to_lowercase())
        .collect();
    println!(
        "{}\t{}\t{}\t{}\t{}",
        a.id,
        roles.join(","),
        a.importer_ids.join(","),
        if a.disabled { "disabled" } else { "active" },
        a.display_name
    );
}

fn print_token(t: &ApiToken) {
    let state = if t.revoked_at.is_some() {
        "revoked".to_string()
    } else {
        t.expires_at
            .as_deref()
            .map_or("no expiry".into(), |e| format!("expires {e}"))
    };
    println!(
        "{}\t{}\t{}\t{}\t{}",
        t.id, t.account, t.label, t.created_at, state
    );
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Accounts(c) => accounts(c),
        Command::Tokens(c) => tokens(c),
    }
}

fn accounts(cmd: AccountsCommand) -> Result<()> {
    match cmd {
        AccountsCommand::Bootstrap { id, name, store } => {
            let db = store.open(false)?;
            let password = password_from_stdin()?;
            let (account, token) = identity::bootstrap_admin(&db, &id, name.as_deref(), &password)?;
            eprintln!(
                "created administrator {}; its API token follows (shown once, keep it secret):",
                account.id
            );
            println!("{}", token.secret);
        }
        AccountsCommand::Create {
            id,
            roles,
            importers,
            name,
            password_stdin,
            store,
        } => {
            let db = open_existing(&store)?;
            let by = acting(&db)?;
            let roles = roles.iter().map(|r| parse_role(r)).collect::<Result<_>>()?;
            let password = if password_stdin {
                Some(password_from_stdin()?)
            } else {
                None
            };
            let new = NewAccount {
                id,
                display_name: name,
                roles,
                importer_ids: importers,
                password,
            };
            let a = identity::create_account(&db, &by, &new)?;
            print_account(&a);
        }
        AccountsCommand::List { json, store } => {
            let db = open_existing(&store)?;
            let by = acting(&db)?;
            let list = identity::list_accounts(&db, &by)?;
            if json {
                // Never the password hash, even in JSON.
                let out: Vec<serde_json::Value> = list
                    .iter()
                    .map(|a| serde_json::json!({"id": a.id, "display_name": a.display_name, "roles": a.roles, "importer_ids": a.importer_ids, "disabled": a.disabled, "created_at": a.created_at, "created_by": a.created_by}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                list.iter().for_each(print_account);
            }
        }
        AccountsCommand::Disable { id, store } => {
            let db = open_existing(&store)?;
            let by = acting(&db)?;
            let a = identity::disable_account(&db, &by, &id)?;
            println!("disabled {}", a.id);
        }
    }
    Ok(())
}

fn tokens(cmd: TokensCommand) -> Result<()> {
    match cmd {
        TokensCommand::Create {
            account,
            label,
            days,
            store,
        } => {
            let db = open_existing(&store)?;
            let by = acting(&db)?;
            let valid = days.map(|d| chrono::Duration::days(i64::from(d)));
            let t = identity::create_token(&db, &by, &account, &label, valid)?;
            eprintln!(
                "token {} for {} (shown once, keep it secret):",
                t.token.id, t.token.account
            );
            println!("{}", t.secret);
        }
        TokensCommand::List {
            account,
            json,
            store,
        } => {
            let db = open_existing(&store)?;
            let by = acting(&db)?;
            let list = identity::list_tokens(&db, &by, account.as_deref())?;
            if json {
                let out: Vec<serde_json::Value> = list
                    .iter()
                    .map(|t| serde_json::json!({"id": t.id, "account": t.account, "label": t.label, "created_at": t.created_at, "created_by": t.created_by, "expires_at": t.expires_at, "revoked_at": t.revoked_at}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                list.iter().for_each(print_token);
            }
        }
        TokensCommand::Revoke { token_id, store } => {
            let db = open_existing(&store)?;
            let by = acting(&db)?;
            let t = identity::revoke_token(&db, &by, &token_id)?;
            println!("revoked token {} of {}", t.id, t.account);
        }
    }
    Ok(())
}
