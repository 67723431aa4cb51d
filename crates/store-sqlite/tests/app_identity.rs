//! Identity use cases of the application core on the embedded SQLite store: the first
//! administrator, accounts and tokens, and the authenticator a server calls per request.

use borderline_app::identity::{self, Authenticator};
use borderline_app::AppError;
use borderline_governance::identity::{IdentityError, NewAccount, Permission};
use borderline_governance::{GovernanceStore, Role};
use borderline_store_sqlite::SqliteStore;
use std::sync::Arc;

fn store() -> Arc<dyn GovernanceStore> {
    Arc::new(SqliteStore::open_in_memory().expect("store"))
}

fn unauthenticated(r: Result<impl std::fmt::Debug, AppError>) -> bool {
    matches!(r, Err(AppError::Identity(IdentityError::Unauthenticated)))
}

#[test]
fn the_first_administrator_is_created_once_and_gets_a_working_token() {
    let store = store();
    assert!(identity::no_accounts(store.as_ref()).expect("empty"));
    let (admin, token) =
        identity::bootstrap_admin(store.as_ref(), "root", None, "a long admin passphrase")
            .expect("bootstrap");
    assert_eq!(admin.roles, vec![Role::Admin]);
    assert!(admin
        .password_hash
        .as_deref()
        .is_some_and(|h| h.starts_with("$argon2id$")));
    assert!(matches!(
        identity::bootstrap_admin(store.as_ref(), "mallory", None, "another long passphrase"),
        Err(AppError::Identity(IdentityError::AlreadyBootstrapped))
    ));
    let auth = Authenticator::new(store.clone());
    let header = format!("Bearer {}", token.secret);
    let who = auth
        .authorize(Some(&header), Permission::ManageAccounts)
        .expect("admin may manage accounts");
    assert_eq!(who.actor.id, "root");
    // Admins see no declarations.
    assert!(matches!(
        auth.authorize(Some(&header), Permission::ScoreDeclarations),
        Err(AppError::Identity(IdentityError::Forbidden { .. }))
    ));
}

#[test]
fn bearer_tokens_carry_roles_and_importer_ids_and_stop_when_revoked() {
    let store = store();
    let (_, root) =
        identity::bootstrap_admin(store.as_ref(), "root", None, "a long admin passphrase")
            .expect("bootstrap");
    let auth = Authenticator::new(store.clone());
    let admin = auth
        .bearer(Some(&format!("Bearer {}", root.secret)), chrono::Utc::now())
        .expect("admin");
    identity::create_account(
        store.as_ref(),
        &admin,
        &NewAccount {
            id: "acme.compliance".into(),
            display_name: Some("ACME compliance desk".into()),
            roles: vec![Role::Trader],
            importer_ids: vec!["IMP-ACME".into()],
            password: None,
        },
    )
    .expect("trader");
    // A trader account needs an importer, and has no other role.
    for (roles, importers) in [
        (vec![Role::Trader], vec![]),
        (vec![Role::Trader, Role::Officer], vec!["IMP-X".to_string()]),
        (vec![Role::Officer], vec!["IMP-X".to_string()]),
        (vec![], vec![]),
    ] {
        let r = identity::create_account(
            store.as_ref(),
            &admin,
            &NewAccount {
                id: "someone".into(),
                display_name: None,
                roles,
                importer_ids: importers,
                password: None,
            },
        );
        assert!(
            matches!(r, Err(AppError::Identity(IdentityError::Invalid { .. }))),
            "{r:?}"
        );
    }
    let t = identity::create_token(
        store.as_ref(),
        &admin,
        "acme.compliance",
        "erp",
        Some(chrono::Duration::days(30)),
    )
    .expect("token");
    let header = format!("Bearer {}", t.secret);
    let trader = auth
        .authorize(Some(&header), Permission::TraderSelfCheck)
        .expect("trader self-check");
    assert_eq!(trader.importer_ids, vec!["IMP-ACME".to_string()]);
    assert!(trader.acts_for_importer("IMP-ACME") && !trader.acts_for_importer("IMP-OTHER"));
    for p in Permission::ALL {
        assert_eq!(
            auth.authorize(Some(&header), p).is_ok(),
            p == Permission::TraderSelfCheck,
            "{p:?}"
        );
    }
    let listed =
        identity::list_tokens(store.as_ref(), &admin, Some("acme.compliance")).expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].expires_at.is_some());
    identity::revoke_token(store.as_ref(), &admin, &t.token.id).expect("revoke");
    assert!(unauthenticated(
        auth.bearer(Some(&header), chrono::Utc::now())
    ));
    // Malformed headers are unauthenticated, never an error of another kind.
    for h in [
        None,
        Some(""),
        Some("Bearer"),
        Some("Basic abc"),
        Some("Bearer blt_x_y"),
    ] {
        assert!(unauthenticated(auth.bearer(h, chrono::Utc::now())), "{h:?}");
    }
}

#[test]
fn passwords_are_set_by_their_holder_or_an_administrator_only() {
    let store = store();
    let (_, root) =
        identity::bootstrap_admin(store.as_ref(), "root", None, "a long admin passphrase")
            .expect("bootstrap");
    let admin = identity::authenticate_token(store.as_ref(), &root.secret).expect("admin");
    for id in ["officer.kim", "officer.lee"] {
        identity::create_account(
            store.as_ref(),
            &admin,
            &NewAccount {
                id: id.into(),
                display_name: None,
                roles: vec![Role::Officer],
                importer_ids: vec![],
                password: Some("first passphrase 12".into()),
            },
        )
        .expect("officer");
    }
    let kim = identity::authenticate_password(store.as_ref(), "officer.kim", "first passphrase 12")
        .expect("kim");
    identity::set_password(store.as_ref(), &kim, "officer.kim", "second passphrase 12")
        .expect("own");
    assert!(matches!(
        identity::set_password(store.as_ref(), &kim, "officer.lee", "stolen passphrase 12"),
        Err(AppError::Identity(IdentityError::Forbidden { .. }))
    ));
    assert!(unauthenticated(identity::authenticate_password(
        store.as_ref(),
        "officer.kim",
        "first passphrase 12"
    )));
    identity::authenticate_password(store.as_ref(), "officer.kim", "second passphrase 12")
        .expect("new password");
    identity::disable_account(store.as_ref(), &admin, "officer.kim").expect("disable");
    assert!(identity::list_accounts(store.as_ref(), &admin)
        .expect("list")
        .iter()
        .any(|a| a.id == "officer.kim" && a.disabled));
}
