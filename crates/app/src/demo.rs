//! The web application's demo: a governance store seeded so that every page has something to
//! show. One account per role (passwords chosen by the caller), a model registered by the
//! analyst, approved and activated by the supervisor (four-eyes holds), and a batch ranked and
//! recorded by an officer (decisions with their inputs, so case pages can be rescored).

use crate::decisions::rank_and_record;
use crate::governance::models::{self, RegisterRequest};
use crate::identity;
use crate::targeting::{Capacities, Reasons};
use crate::{AppError, Result};
use borderline_core::Declaration;
use borderline_governance::identity::NewAccount;
use borderline_governance::{GovernanceStore, Role};
use borderline_targeting::score::{Explain, Scorer};

/// A demo account: its id, roles and password.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoAccount {
    pub id: &'static str,
    pub roles: Vec<Role>,
    pub password: String,
}

/// The demo's accounts: an administrator, two officers (to see a case held by another), an
/// analyst, a supervisor, an auditor and a trader.
pub const DEMO_ACCOUNTS: [(&str, Role); 7] = [
    ("demo.admin", Role::Admin),
    ("demo.officer", Role::Officer),
    ("demo.officer2", Role::Officer),
    ("demo.analyst", Role::Analyst),
    ("demo.supervisor", Role::Supervisor),
    ("demo.auditor", Role::Auditor),
    ("demo.trader", Role::Trader),
];

/// Seeds an empty store: `passwords` holds one password per entry of [`DEMO_ACCOUNTS`], in
/// order. The trader acts for the importer of `batch`'s first declaration. Returns the accounts
/// and the number of decisions recorded.
pub fn seed(
    store: &dyn GovernanceStore,
    passwords: &[String],
    artefact: Vec<u8>,
    batch: &[Declaration],
    as_of: chrono::NaiveDate,
) -> Result<(Vec<DemoAccount>, usize)> {
    if passwords.len() != DEMO_ACCOUNTS.len() {
        return Err(AppError::Invalid(format!(
            "the demo needs {} passwords",
            DEMO_ACCOUNTS.len()
        )));
    }
    if !identity::no_accounts(store)? {
        return Err(AppError::Invalid(
            "the demo seeds an empty store; this one already has accounts".into(),
        ));
    }
    let first = batch
        .first()
        .ok_or_else(|| AppError::Invalid("the demo needs declarations to rank".into()))?;
    let (admin_id, _) = DEMO_ACCOUNTS[0];
    identity::bootstrap_admin(store, admin_id, Some("Demo administrator"), &passwords[0])?;
    let admin = identity::authenticate_password(store, admin_id, &passwords[0])?;
    let mut out = vec![DemoAccount {
        id: admin_id,
        roles: vec![Role::Admin],
        password: passwords[0].clone(),
    }];
    for ((id, role), password) in DEMO_ACCOUNTS.iter().zip(passwords).skip(1) {
        identity::create_account(
            store,
            &admin,
            &NewAccount {
                id: (*id).into(),
                display_name: None,
                roles: vec![*role],
                importer_ids: if *role == Role::Trader {
                    vec![first.importer.to_string()]
                } else {
                    Vec::new()
                },
                password: Some(password.clone()),
            },
        )?;
        out.push(DemoAccount {
            id,
            roles: vec![*role],
            password: password.clone(),
        });
    }
    let who = |id: &str, i: usize| identity::authenticate_password(store, id, &passwords[i]);
    let analyst = who("demo.analyst", 3)?;
    let supervisor = who("demo.supervisor", 4)?;
    let officer = who("demo.officer", 1)?;
    let entry = models::register(
        store,
        &analyst.actor,
        &RegisterRequest {
            artefact,
            trainer: None,
            evaluation: None,
            intended_use: "demo: rank the bundled 2021-Q2 declarations for inspection".into(),
            limits: "trained on synthetic Korea Customs declarations; not for real decisions"
                .into(),
        },
    )?;
    let version = entry.model.version;
    models::approve(
        store,
        &supervisor.actor,
        &version,
        "demo: validated on the bundled held-back period",
    )?;
    models::activate(store, &supervisor.actor, &version)?;
    let (_, model) = models::load_active(store)?;
    let scorer = Scorer::new(model);
    let decided = rank_and_record(
        store,
        &officer.actor,
        Some(&scorer),
        batch,
        Capacities::default(),
        Reasons {
            method: Some(Explain::Exact),
            top: 3,
        },
        as_of,
    )?;
    Ok((out, decided.len()))
}
