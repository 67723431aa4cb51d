//! Bearer JWTs of an external OpenID Connect provider: a key pair made here plays the
//! provider (tokens signed with ed25519-dalek, independently of the verifier's library); the
//! server knows only the public key from a JWKS file.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use borderline_app::identity;
use borderline_app::oidc::{OidcConfig, OidcVerifier};
use borderline_governance::identity::NewAccount;
use borderline_governance::{GovernanceStore, Role};
use borderline_server::{AppState, ServerConfig};
use borderline_store_sqlite::SqliteStore;
use ed25519_dalek::{Signer, SigningKey};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const ISSUER: &str = "https://login.customs.example/realms/staff";
const AUDIENCE: &str = "borderline";

fn jwks(key: &SigningKey, kid: &str) -> String {
    json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
        "x": B64.encode(key.verifying_key().as_bytes()),
    }]})
    .to_string()
}

fn sign(key: &SigningKey, header: Value, claims: Value) -> String {
    let h = B64.encode(header.to_string());
    let c = B64.encode(claims.to_string());
    let sig = key.sign(format!("{h}.{c}").as_bytes());
    format!("{h}.{c}.{}", B64.encode(sig.to_bytes()))
}

fn claims(sub: &str, iss: &str, aud: &str, exp_in: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": sub, "iss": iss, "aud": aud, "iat": now, "exp": now + exp_in})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_tokens_verified_against_the_configured_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn GovernanceStore> =
        Arc::new(SqliteStore::open(&dir.path().join("gov.db")).expect("store"));
    let (_, root) =
        identity::bootstrap_admin(store.as_ref(), "root", None, "a long admin passphrase")
            .expect("bootstrap");
    let admin = identity::authenticate_token(store.as_ref(), &root.secret).expect("admin");
    for (id, role) in [("auditor.one", Role::Auditor), ("gone.one", Role::Auditor)] {
        identity::create_account(
            store.as_ref(),
            &admin,
            &NewAccount {
                id: id.into(),
                display_name: None,
                roles: vec![role],
                importer_ids: vec![],
                password: None,
            },
        )
        .expect("account");
    }
    identity::disable_account(store.as_ref(), &admin, "gone.one").expect("disable");

    let provider = SigningKey::generate(&mut rand_core06::OsRng);
    let stranger = SigningKey::generate(&mut rand_core06::OsRng);
    let config = OidcConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        account_claim: "sub".into(),
    };
    let verifier =
        OidcVerifier::from_jwks(&jwks(&provider, "k1"), "jwks.json", config.clone()).expect("jwks");
    let state = AppState::new(store.clone(), ServerConfig::default(), None)
        .expect("state")
        .with_oidc(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(borderline_server::serve(
        listener,
        Arc::new(state),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let call = |token: String, path: &'static str| {
        let r = client.get(format!("{base}{path}")).bearer_auth(token);
        async move { r.send().await.expect("request").status() }
    };
    let head = json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"});

    // A valid token names the auditor: the auditor's own permissions apply.
    let good = sign(
        &provider,
        head.clone(),
        claims("auditor.one", ISSUER, AUDIENCE, 300),
    );
    assert_eq!(call(good.clone(), "/v1/audit/verify").await, StatusCode::OK);
    let good = sign(
        &provider,
        head.clone(),
        claims("auditor.one", ISSUER, AUDIENCE, 300),
    );
    let (st, _) = {
        let r = client
            .post(format!("{base}/v1/declarations/rank"))
            .bearer_auth(good)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request");
        (r.status(), ())
    };
    assert_eq!(st, StatusCode::FORBIDDEN, "an auditor may not score");

    let refused: Vec<(&str, String)> = vec![
        (
            "expired",
            sign(
                &provider,
                head.clone(),
                claims("auditor.one", ISSUER, AUDIENCE, -600),
            ),
        ),
        (
            "wrong issuer",
            sign(
                &provider,
                head.clone(),
                claims("auditor.one", "https://evil.example", AUDIENCE, 300),
            ),
        ),
        (
            "wrong audience",
            sign(
                &provider,
                head.clone(),
                claims("auditor.one", ISSUER, "other-app", 300),
            ),
        ),
        (
            "wrong key",
            sign(
                &stranger,
                head.clone(),
                claims("auditor.one", ISSUER, AUDIENCE, 300),
            ),
        ),
        (
            "unknown kid",
            sign(
                &provider,
                json!({"alg": "EdDSA", "kid": "k9"}),
                claims("auditor.one", ISSUER, AUDIENCE, 300),
            ),
        ),
        (
            "no account",
            sign(
                &provider,
                head.clone(),
                claims("nobody.here", ISSUER, AUDIENCE, 300),
            ),
        ),
        (
            "disabled account",
            sign(
                &provider,
                head.clone(),
                claims("gone.one", ISSUER, AUDIENCE, 300),
            ),
        ),
        ("alg none", {
            let h = B64.encode(json!({"alg": "none", "kid": "k1"}).to_string());
            let c = B64.encode(claims("auditor.one", ISSUER, AUDIENCE, 300).to_string());
            format!("{h}.{c}.")
        }),
        (
            "alg switched to HS256",
            sign(
                &provider,
                json!({"alg": "HS256", "kid": "k1"}),
                claims("auditor.one", ISSUER, AUDIENCE, 300),
            ),
        ),
        (
            "no exp",
            sign(
                &provider,
                head.clone(),
                json!({"sub": "auditor.one", "iss": ISSUER, "aud": AUDIENCE}),
            ),
        ),
        ("garbage", "a.b.c".to_string()),
    ];
    for (what, token) in refused {
        assert_eq!(
            call(token, "/v1/audit/verify").await,
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }

    // Local API tokens still work beside it.
    assert_eq!(
        call(root.secret.clone(), "/v1/audit/verify").await,
        StatusCode::FORBIDDEN
    );

    // A JWKS with a shared-secret key, or none, is refused at start.
    let hs = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}).to_string();
    assert!(OidcVerifier::from_jwks(&hs, "jwks.json", config.clone()).is_err());
    assert!(OidcVerifier::from_jwks("{\"keys\": []}", "jwks.json", config).is_err());
}
