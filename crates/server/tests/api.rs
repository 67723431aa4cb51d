//! The HTTP API end to end: the real server on a loopback port (port 0) over a temporary
//! SQLite store, a small model trained here, every endpoint called over HTTP.

use borderline_app::identity;
use borderline_app::stream::{DeclarationQueue, QueueFuture};
use borderline_app::training::{train_model, TrainConfig, TrainRequest};
use borderline_core::Declaration;
use borderline_governance::identity::NewAccount;
use borderline_governance::{GovernanceStore, Role};
use borderline_ingest::{read_all, Profile};
use borderline_server::{AppState, ServerConfig};
use borderline_store_sqlite::SqliteStore;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

fn rows(split: &str, every: usize) -> Vec<Declaration> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/declarations/kcs_{split}.csv.gz"));
    let profile = Profile::resolve("korea-customs").expect("profile");
    let (rows, _, _) = read_all(&path, profile).expect("bundled declarations");
    rows.into_iter().step_by(every).collect()
}

/// Two small models (different learning rates, so different ids) and some later declarations.
fn models() -> &'static (Vec<u8>, Vec<u8>, Vec<Declaration>) {
    static M: OnceLock<(Vec<u8>, Vec<u8>, Vec<Declaration>)> = OnceLock::new();
    M.get_or_init(|| {
        let (train, valid) = (rows("train", 20), rows("valid", 10));
        let make = |lr: f64| {
            let config = TrainConfig {
                learning_rate: lr,
                max_rounds: 10,
                threads: 1,
                ..TrainConfig::default()
            };
            let req = TrainRequest {
                train: train.clone(),
                valid: valid.clone(),
                recorded: Vec::new(),
                config,
            };
            train_model(req, &|_| {}).expect("train").0.to_bytes()
        };
        let later: Vec<Declaration> = rows("test", 50).into_iter().take(40).collect();
        (make(0.1), make(0.2), later)
    })
}

/// A declaration as a request body: the generic profile's keys.
fn declaration_json(d: &Declaration) -> Value {
    let mut v = serde_json::to_value(d).expect("declaration json");
    let obj = v.as_object_mut().expect("object");
    obj.remove("outcome");
    obj.retain(|_, x| !x.is_null());
    v
}

/// Log lines the server wrote in this test binary (to check what they never contain).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || LogWriter(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);
impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Server {
    base: String,
    client: Client,
    /// Token text per role name ("officer", ...), and "admin".
    tokens: BTreeMap<&'static str, String>,
    importer: String,
    later: Vec<Declaration>,
    _dir: tempfile::TempDir,
}

const ROLES: [(&str, Role); 6] = [
    ("officer", Role::Officer),
    ("analyst", Role::Analyst),
    ("supervisor", Role::Supervisor),
    ("auditor", Role::Auditor),
    ("admin", Role::Admin),
    ("trader", Role::Trader),
];

/// Starts a server with one account and token per role, the first model registered by the
/// analyst, approved and activated by the supervisor (through the API when `via_http`).
async fn start(config: ServerConfig) -> Server {
    start_with(config, None, None).await
}

/// As [`start`], with a party directory CSV for network exposure and selection screening,
/// and one more account: `dual` (analyst and supervisor), to try four-eyes on one person.
async fn start_with(
    config: ServerConfig,
    parties_csv: Option<String>,
    queue: Option<Arc<dyn DeclarationQueue>>,
) -> Server {
    logs();
    let (first, _, later) = models();
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn GovernanceStore> =
        Arc::new(SqliteStore::open(&dir.path().join("gov.db")).expect("store"));
    let (_, root) =
        identity::bootstrap_admin(store.as_ref(), "root", None, "a long admin passphrase")
            .expect("bootstrap");
    let admin = identity::authenticate_token(store.as_ref(), &root.secret).expect("admin");
    let importer = later[0].importer.to_string();
    let mut tokens = BTreeMap::new();
    for (name, role) in ROLES {
        let id = format!("{name}.one");
        identity::create_account(
            store.as_ref(),
            &admin,
            &NewAccount {
                id: id.clone(),
                display_name: None,
                roles: vec![role],
                importer_ids: if role == Role::Trader {
                    vec![importer.clone()]
                } else {
                    vec![]
                },
                password: None,
            },
        )
        .expect("account");
        let t = identity::create_token(store.as_ref(), &admin, &id, "test", None).expect("token");
        tokens.insert(name, t.secret);
    }
    identity::create_account(
        store.as_ref(),
        &admin,
        &NewAccount {
            id: "dual.one".into(),
            display_name: None,
            roles: vec![Role::Analyst, Role::Supervisor],
            importer_ids: vec![],
            password: None,
        },
    )
    .expect("dual account");
    let t =
        identity::create_token(store.as_ref(), &admin, "dual.one", "test", None).expect("token");
    tokens.insert("dual", t.secret);
    let mut state = AppState::new(store, config, None).expect("state");
    if let Some(q) = queue {
        state = state.with_declaration_queue(q);
    }
    if let Some(csv) = parties_csv {
        let path = dir.path().join("parties.csv");
        std::fs::write(&path, csv).expect("parties file");
        state = state
            .with_parties(
                borderline_app::screening::Parties::from_files(&path, None).expect("parties"),
            )
            .expect("parties screened");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(borderline_server::serve(
        listener,
        Arc::new(state),
        std::future::pending(),
    ));
    let s = Server {
        base: format!("http://{addr}"),
        client: Client::new(),
        tokens,
        importer,
        later: later.clone(),
        _dir: dir,
    };
    // The model lifecycle through the API: the analyst registers, the supervisor approves
    // and activates.
    let reg = s.call_bytes("analyst", "/v1/models", first.clone()).await;
    assert_eq!(reg.0, StatusCode::CREATED, "{}", reg.1);
    let version = reg.1["version"].as_str().expect("version").to_string();
    let (st, body) = s
        .call(
            Some("supervisor"),
            Method::POST,
            &format!("/v1/models/{version}/approve"),
            Some(json!({"reason": "validated on 2021-Q1"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, body) = s
        .call(
            Some("supervisor"),
            Method::POST,
            &format!("/v1/models/{version}/activate"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    s
}

impl Server {
    async fn call(
        &self,
        role: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(r) = role {
            req = req.bearer_auth(&self.tokens[r]);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    async fn raw(
        &self,
        role: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, String, String) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.tokens[role])
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, resp.text().await.expect("body"))
    }

    async fn call_bytes(&self, role: &str, path: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let (st, _, text) = self
            .raw(role, path, "application/octet-stream", bytes)
            .await;
        (
            st,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn declaration(&self) -> Value {
        declaration_json(&self.later[0])
    }
}

const RULES: &str = "# every declaration from this origin\nrule \"origin-watch\" priority 5\nwhen origin = \"CN\"\nthen lane yellow reason \"origin under watch\"\n";

/// Every role (and no token) against every endpoint, with the expected status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_against_every_endpoint() {
    let s = start(ServerConfig::default()).await;
    let decl = s.declaration();
    let mut other = decl.clone();
    other["importer"] = json!("SOMEONE-ELSE");
    let did = decl["declaration_id"].as_str().expect("id").to_string();
    // Seed a decision so that the lookup finds one.
    let (st, _) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/score",
            Some(json!({"declaration": decl})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    type Row = (Method, String, Option<Value>, &'static [&'static str], u16);
    let table: Vec<Row> = vec![
        (
            Method::POST,
            "/v1/declarations/score".into(),
            Some(json!({"declaration": decl})),
            &["officer"],
            200,
        ),
        (
            Method::POST,
            "/v1/declarations/rank".into(),
            Some(json!({"declarations": [decl]})),
            &["officer"],
            200,
        ),
        (
            Method::GET,
            format!("/v1/decisions/{did}"),
            None,
            &["officer", "supervisor", "auditor"],
            200,
        ),
        (
            Method::GET,
            format!("/v1/decisions/{did}/explanation"),
            None,
            &["officer", "supervisor", "auditor"],
            200,
        ),
        (
            Method::POST,
            "/v1/outcomes".into(),
            Some(json!({"declaration_id": did, "fraud": false})),
            &["officer"],
            201,
        ),
        // No benchmarks loaded in this server: permitted roles get 503, not 403.
        (
            Method::POST,
            "/v1/valuation/check".into(),
            Some(json!({"declaration": decl})),
            &["officer", "analyst"],
            503,
        ),
        (
            Method::POST,
            "/v1/hs/suggest".into(),
            Some(json!({"description": "frozen shrimp"})),
            &["officer", "analyst"],
            200,
        ),
        (
            Method::POST,
            "/v1/hs/check".into(),
            Some(json!({"description": "frozen shrimp", "declared": "030617"})),
            &["officer", "analyst"],
            200,
        ),
        (
            Method::POST,
            "/v1/screening/screen".into(),
            Some(json!({"party": {"name": "Rosneft"}})),
            &["officer", "analyst"],
            200,
        ),
        (
            Method::POST,
            "/v1/match/default".into(),
            Some(
                json!({"queries": {"q1": {"schema": "Company", "properties": {"name": ["Rosneft"]}}}}),
            ),
            &["officer", "analyst"],
            200,
        ),
        (
            Method::POST,
            "/v1/self-check".into(),
            Some(json!({"declaration": decl})),
            &["trader"],
            200,
        ),
        (
            Method::GET,
            "/v1/models".into(),
            None,
            &["analyst", "supervisor", "auditor"],
            200,
        ),
        (
            Method::GET,
            "/v1/models/no-such-model".into(),
            None,
            &["analyst", "supervisor", "auditor"],
            404,
        ),
        (
            Method::POST,
            "/v1/models/no-such-model/approve".into(),
            Some(json!({"reason": "ok"})),
            &["supervisor"],
            404,
        ),
        (
            Method::POST,
            "/v1/models/no-such-model/activate".into(),
            None,
            &["supervisor"],
            404,
        ),
        (
            Method::POST,
            "/v1/models/no-such-model/retire".into(),
            Some(json!({"reason": "old"})),
            &["supervisor"],
            404,
        ),
        (
            Method::POST,
            "/v1/models/rollback".into(),
            Some(json!({"reason": "bad"})),
            &["supervisor"],
            409,
        ),
        (
            Method::POST,
            "/v1/lanes/select".into(),
            Some(json!({"declarations": [decl], "subject": "table"})),
            &["officer"],
            200,
        ),
        (
            Method::POST,
            "/v1/monitoring".into(),
            Some(json!({"reference": [decl], "recent": [decl]})),
            &["analyst", "supervisor", "auditor"],
            200,
        ),
        (
            Method::GET,
            "/v1/monitoring/hit-rates".into(),
            None,
            &["analyst", "supervisor", "auditor"],
            200,
        ),
        // No declaration stream in this server: permitted roles get 503, not 403.
        (
            Method::POST,
            "/v1/declarations/publish".into(),
            Some(json!({"declarations": [decl]})),
            &["officer"],
            503,
        ),
        // No party directory in this server: permitted roles get 503, not 403.
        (
            Method::POST,
            "/v1/network/exposure".into(),
            Some(json!({"declaration": decl})),
            &["officer", "analyst"],
            503,
        ),
        (
            Method::POST,
            "/v1/rules/validate".into(),
            Some(json!({"source": RULES})),
            &["analyst"],
            200,
        ),
        (
            Method::POST,
            "/v1/rules".into(),
            Some(json!({"source": RULES})),
            &["analyst"],
            201,
        ),
        (
            Method::GET,
            "/v1/rules".into(),
            None,
            &["analyst", "supervisor", "auditor"],
            200,
        ),
        (
            Method::GET,
            "/v1/rules/rules-0000000000000000".into(),
            None,
            &["analyst", "supervisor", "auditor"],
            404,
        ),
        (
            Method::POST,
            "/v1/rules/rules-0000000000000000/approve".into(),
            Some(json!({"reason": "ok"})),
            &["supervisor"],
            404,
        ),
        (
            Method::POST,
            "/v1/rules/rules-0000000000000000/activate".into(),
            None,
            &["supervisor"],
            404,
        ),
        (
            Method::POST,
            "/v1/rules/rules-0000000000000000/retire".into(),
            Some(json!({"reason": "old"})),
            &["supervisor"],
            404,
        ),
        (
            Method::GET,
            "/v1/audit/verify".into(),
            None,
            &["supervisor", "auditor"],
            200,
        ),
        (
            Method::GET,
            "/v1/audit/export".into(),
            None,
            &["supervisor", "auditor"],
            200,
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, allowed, ok) in &table {
        let (st, b) = s.call(None, method.clone(), path, body.clone()).await;
        if st != StatusCode::UNAUTHORIZED {
            failures.push(format!("{method} {path} without token: {st} {b}"));
        }
        for (role, _) in ROLES {
            let want = if allowed.contains(&role) { *ok } else { 403 };
            let (st, b) = s.call(Some(role), method.clone(), path, body.clone()).await;
            if st.as_u16() != want {
                failures.push(format!(
                    "{method} {path} as {role}: {st}, expected {want}: {b}"
                ));
            }
        }
    }
    // Registering by upload: analysts only (an invalid artefact is 422 for them).
    for (role, _) in ROLES {
        let (st, _) = s
            .call_bytes(role, "/v1/models", b"not a model".to_vec())
            .await;
        let want = if role == "analyst" { 422 } else { 403 };
        if st.as_u16() != want {
            failures.push(format!("POST /v1/models as {role}: {st}, expected {want}"));
        }
    }
    // A trader's self-check of another importer's declaration is refused.
    let (st, _) = s
        .call(
            Some("trader"),
            Method::POST,
            "/v1/self-check",
            Some(json!({"declaration": other})),
        )
        .await;
    if st != StatusCode::FORBIDDEN {
        failures.push(format!("trader self-check of another importer: {st}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_rank_lookup_and_outcomes_name_the_authenticated_actor() {
    let s = start(ServerConfig::default()).await;
    let (st, health) = s.call(None, Method::GET, "/healthz", None).await;
    assert_eq!(st, StatusCode::OK);
    let active = health["active_model"]
        .as_str()
        .expect("active model")
        .to_string();
    let decl = s.declaration();
    let (st, one) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/score",
            Some(json!({"declaration": decl, "reasons": "fast"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{one}");
    assert_eq!(one["model_version"], json!(active));
    let p = one["risk_score"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&p));
    assert!(["red", "yellow", "blue", "green"].contains(&one["lane"].as_str().expect("lane")));
    let batch: Vec<Value> = s.later.iter().take(20).map(declaration_json).collect();
    let (st, ranked) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/rank",
            Some(json!({"declarations": batch, "red_percent": 10, "yellow_percent": 10})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ranked}");
    let list = ranked["decisions"].as_array().expect("decisions");
    assert_eq!(list.len(), 20);
    assert_eq!(list.iter().filter(|d| d["lane"] == "red").count(), 2);
    let ranks: Vec<u64> = list
        .iter()
        .map(|d| d["rank"].as_u64().expect("rank"))
        .collect();
    assert_eq!(ranks, (1..=20).collect::<Vec<_>>());
    let id = decl["declaration_id"].as_str().expect("id");
    let (st, found) = s
        .call(
            Some("auditor"),
            Method::GET,
            &format!("/v1/decisions/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{found}");
    assert_eq!(found["model_version"], json!(active));
    // A green decision carries no reason; it is explained on demand by the model that decided.
    let green = list
        .iter()
        .find(|d| d["lane"] == "green")
        .expect("a green decision");
    assert!(
        green["reasons"].as_array().is_none_or(|r| r.is_empty()),
        "{green}"
    );
    let gid = green["declaration_id"].as_str().expect("id");
    let (st, x) = s
        .call(
            Some("officer"),
            Method::GET,
            &format!("/v1/decisions/{gid}/explanation"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{x}");
    assert_eq!(x["status"], "computed", "{x}");
    let reasons = x["reasons"].as_array().expect("reasons");
    assert!(!reasons.is_empty() && reasons.len() <= 8, "{x}");
    assert!(reasons.iter().all(|r| r["contribution"].is_number()), "{x}");
    let (st, _) = s
        .call(
            Some("officer"),
            Method::GET,
            "/v1/decisions/NEVER-DECIDED/explanation",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The officer named in an outcome is the token's account; a client-supplied name is ignored.
    let (st, rec) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/outcomes",
            Some(json!({"declaration_id": id, "fraud": true, "officer": "somebody.else"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{rec}");
    assert_eq!(rec["recorded_by"], json!("officer.one"));
    // Issue 14: no outcome for a declaration nothing decided, nor dated in 2099.
    for (body, field) in [
        (
            json!({"declaration_id": "NEVER-DECIDED", "fraud": false}),
            "declaration_id",
        ),
        (
            json!({"declaration_id": id, "fraud": false, "decided_on": "2099-01-01"}),
            "decided_on",
        ),
    ] {
        let (st, problem) = s
            .call(Some("officer"), Method::POST, "/v1/outcomes", Some(body))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["field"], json!(field), "{problem}");
    }
    let resp = s
        .client
        .get(format!("{}/v1/audit/export", s.base))
        .bearer_auth(&s.tokens["auditor"])
        .send()
        .await
        .expect("export");
    let export = resp.text().await.expect("text");
    let users: Vec<String> = export
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("jsonl")["user"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(
        users.iter().all(|u| u.ends_with(".one") || u == "root"),
        "{users:?}"
    );
    assert!(!export.contains("somebody.else"));
    let (st, v) = s
        .call(Some("auditor"), Method::GET, "/v1/audit/verify", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], json!("intact"), "{v}");
    // Metrics count what was served.
    let (_, m) = s.call(None, Method::GET, "/metrics", None).await;
    let m = m.as_str().expect("text").to_string();
    assert!(
        m.contains(
            "borderline_http_requests_total{route=\"POST /v1/declarations/score\",status=\"200\"}"
        ),
        "{m}"
    );
    let (st, doc) = s.call(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(doc["paths"]["/v1/declarations/score"]["post"].is_object());
    let (st, page) = s.call(None, Method::GET, "/docs", None).await;
    assert_eq!(st, StatusCode::OK);
    let page = page.as_str().expect("html");
    assert!(page.contains("/openapi.json") && !page.contains("https://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activating_a_model_takes_effect_for_new_requests_without_restart() {
    let s = start(ServerConfig::default()).await;
    let (_, second, _) = models();
    let decl = s.declaration();
    let (_, before) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/score",
            Some(json!({"declaration": decl})),
        )
        .await;
    let (st, reg) = s.call_bytes("analyst", "/v1/models", second.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{reg}");
    let v2 = reg["version"].as_str().expect("version").to_string();
    // The registering analyst cannot approve (403 by role); a supervisor can.
    let (st, _) = s
        .call(
            Some("analyst"),
            Method::POST,
            &format!("/v1/models/{v2}/approve"),
            Some(json!({"reason": "mine"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, b) = s
        .call(
            Some("supervisor"),
            Method::POST,
            &format!("/v1/models/{v2}/approve"),
            Some(json!({"reason": ""})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["field"], json!("reason"));
    let (st, _) = s
        .call(
            Some("supervisor"),
            Method::POST,
            &format!("/v1/models/{v2}/approve"),
            Some(json!({"reason": "better AUC"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, act) = s
        .call(
            Some("supervisor"),
            Method::POST,
            &format!("/v1/models/{v2}/activate"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{act}");
    assert_eq!(act["replaced"], before["model_version"]);
    let (_, after) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/score",
            Some(json!({"declaration": decl})),
        )
        .await;
    assert_eq!(after["model_version"], json!(v2));
    let (st, rb) = s
        .call(
            Some("supervisor"),
            Method::POST,
            "/v1/models/rollback",
            Some(json!({"reason": "drift"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{rb}");
    let (_, back) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/score",
            Some(json!({"declaration": decl})),
        )
        .await;
    assert_eq!(back["model_version"], before["model_version"]);
}

fn contains_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, x)| k == key || contains_key(x, key)),
        Value::Array(a) => a.iter().any(|x| contains_key(x, key)),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trader_checks_only_its_own_declarations_and_never_sees_the_model() {
    let s = start(ServerConfig::default()).await;
    let mut decl = s.declaration();
    decl["description"] = json!("frozen shrimp, peeled");
    let (st, check) = s
        .call(Some("trader"), Method::POST, "/v1/self-check", Some(json!({"declaration": decl, "counterparties": [{"name": "Rosneft Trading SA", "schema": "company"}]})))
        .await;
    assert_eq!(st, StatusCode::OK, "{check}");
    assert_eq!(check["declaration_id"], decl["declaration_id"]);
    assert!(check["hs"].is_object());
    assert!(check["counterparties"][0]["hits"].is_array());
    // No score, lane, model reason or model id anywhere in the answer.
    for key in [
        "risk_score",
        "score_raw",
        "lane",
        "model_version",
        "model_id",
        "rank",
    ] {
        assert!(!contains_key(&check, key), "{key} in {check}");
    }
    // No benchmark that could be built from fewer than 5 importers: none is shown at all.
    assert_eq!(check["valuation"]["status"], json!("withheld"));
    assert!(!contains_key(&check["valuation"], "median"));
    // Another importer's declaration.
    let mut other = decl.clone();
    other["importer"] = json!(format!("{}-X", s.importer));
    let (st, b) = s
        .call(
            Some("trader"),
            Method::POST,
            "/v1/self-check",
            Some(json!({"declaration": other})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    // Score, rank, decisions, models, audit: all forbidden.
    let id = decl["declaration_id"].as_str().expect("id");
    for (m, p, body) in [
        (
            Method::POST,
            "/v1/declarations/score".to_string(),
            Some(json!({"declaration": decl})),
        ),
        (
            Method::POST,
            "/v1/declarations/rank".to_string(),
            Some(json!({"declarations": [decl]})),
        ),
        (Method::GET, format!("/v1/decisions/{id}"), None),
        (Method::GET, "/v1/models".to_string(), None),
        (
            Method::POST,
            "/v1/valuation/check".to_string(),
            Some(json!({"declaration": decl})),
        ),
    ] {
        let (st, _) = s.call(Some("trader"), m, &p, body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_problem_naming_the_field_and_never_a_500() {
    let s = start(ServerConfig {
        max_body_bytes: 64 * 1024,
        ..ServerConfig::default()
    })
    .await;
    let decl = s.declaration();
    let mut wrong_type = decl.clone();
    wrong_type["net_mass_kg"] = json!("heavy");
    let mut bad_date = decl.clone();
    bad_date["date"] = json!("2021-13-45");
    let mut missing = decl.clone();
    missing.as_object_mut().expect("obj").remove("importer");
    let mut bad_hs = decl.clone();
    bad_hs["hs_code"] = json!("12");
    // (path, content type, body, expected status, field named)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "/v1/declarations/score",
            "application/json",
            b"{\"declaration\": ".to_vec(),
            400,
            None,
        ),
        (
            "/v1/declarations/score",
            "application/json",
            b"[]".to_vec(),
            422,
            None,
        ),
        (
            "/v1/declarations/score",
            "application/json",
            b"null".to_vec(),
            422,
            None,
        ),
        (
            "/v1/declarations/score",
            "text/plain",
            b"{}".to_vec(),
            415,
            None,
        ),
        (
            "/v1/declarations/score",
            "application/json",
            json!({"declaration": wrong_type}).to_string().into_bytes(),
            422,
            Some("declaration.net_mass_kg"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            json!({"declaration": missing}).to_string().into_bytes(),
            422,
            Some("declaration"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            json!({"declaration": bad_date}).to_string().into_bytes(),
            422,
            Some("declaration.date"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            json!({"declaration": bad_hs}).to_string().into_bytes(),
            422,
            Some("declaration.hs_code"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            json!({"declaration": decl, "top_reasons": 0})
                .to_string()
                .into_bytes(),
            422,
            Some("top_reasons"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            json!({"declaration": decl, "top_reasons": 100000})
                .to_string()
                .into_bytes(),
            422,
            Some("top_reasons"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            json!({"declaration": decl, "reasons": "psychic"})
                .to_string()
                .into_bytes(),
            422,
            Some("reasons"),
        ),
        (
            "/v1/declarations/rank",
            "application/json",
            json!({"declarations": []}).to_string().into_bytes(),
            422,
            Some("declarations"),
        ),
        (
            "/v1/declarations/rank",
            "application/json",
            json!({"declarations": [decl], "red_percent": -3})
                .to_string()
                .into_bytes(),
            422,
            Some("red_percent"),
        ),
        (
            "/v1/declarations/rank",
            "application/json",
            json!({"declarations": [decl, bad_date]})
                .to_string()
                .into_bytes(),
            422,
            Some("declarations[1].date"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            vec![b' '; 65 * 1024],
            413,
            None,
        ),
        (
            "/v1/declarations/score",
            "application/json",
            vec![0xff, 0xfe, 0x00],
            400,
            None,
        ),
        // A raw control character is not JSON; an escaped one is a value to validate.
        (
            "/v1/declarations/score",
            "application/json",
            "{\"declaration\": {\"a\": \"\u{0}\"}}".as_bytes().to_vec(),
            400,
            Some("declaration.a"),
        ),
        (
            "/v1/declarations/score",
            "application/json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            422,
            None,
        ),
        (
            "/v1/declarations/score",
            "application/json",
            format!(
                "{{\"declaration\": {}{}}}",
                "{\"a\":".repeat(5000),
                "1}".repeat(5000)
            )
            .into_bytes(),
            400,
            None,
        ),
        // A yente client asking for more results than the limit is refused, not clamped.
        (
            "/v1/match/default?limit=51",
            "application/json",
            b"{\"queries\": {}}".to_vec(),
            422,
            Some("limit"),
        ),
        (
            "/v1/match/default?limit=0",
            "application/json",
            b"{\"queries\": {}}".to_vec(),
            422,
            Some("limit"),
        ),
        (
            "/v1/match/no-such-dataset",
            "application/json",
            b"{\"queries\": {}}".to_vec(),
            404,
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (path, ct, body, want, field) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).to_string();
        let (st, got_ct, text) = s.raw("officer", path, ct, body).await;
        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if st.as_u16() != want {
            failures.push(format!("{path} {shown:?}: {st}, expected {want}: {text}"));
        }
        if got_ct != "application/problem+json" || problem["status"] != json!(want) {
            failures.push(format!(
                "{path} {shown:?}: not a problem body ({got_ct}): {text}"
            ));
        }
        if let Some(f) = field {
            if problem["field"].as_str() != Some(f) {
                failures.push(format!(
                    "{path} {shown:?}: field {:?}, expected {f}",
                    problem["field"]
                ));
            }
        }
    }
    // Without a token the answer is 401 whatever the body: nothing is parsed before the
    // token is checked.
    let resp = s
        .client
        .post(format!("{}/v1/declarations/score", s.base))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Unknown routes and methods.
    let (st, _) = s
        .call(Some("officer"), Method::GET, "/v1/nothing", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .call(
            Some("officer"),
            Method::DELETE,
            "/v1/declarations/score",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    // Garbage tokens are 401, never 500.
    for t in ["", "blt_", "blt_zz_zz", &"x".repeat(10_000), "Bearer"] {
        let resp = s
            .client
            .get(format!("{}/v1/models", s.base))
            .header("authorization", format!("Bearer {t}"))
            .send()
            .await
            .expect("send");
        if resp.status() != StatusCode::UNAUTHORIZED {
            failures.push(format!("token {t:.20?}: {}", resp.status()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The logs carry request ids and actors, never tokens or declaration contents.
    let logs = String::from_utf8_lossy(&logs().lock().expect("logs")).to_string();
    assert!(
        logs.contains("request_id=") && logs.contains("actor=officer.one"),
        "{logs:.2000}"
    );
    for token in s.tokens.values() {
        assert!(!logs.contains(token.as_str()), "a token in the logs");
    }
    let importer = decl["importer"].as_str().expect("importer");
    assert!(
        !logs.contains(&format!("\"{importer}\"")),
        "declaration contents in the logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let s = start(ServerConfig {
        rate_per_second: 1.0,
        rate_burst: 3.0,
        ..ServerConfig::default()
    })
    .await;
    // start() spent the supervisor's and analyst's budget; the auditor's is fresh.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let resp = s
            .client
            .get(format!("{}/v1/audit/verify", s.base))
            .bearer_auth(&s.tokens["auditor"])
            .send()
            .await
            .expect("send");
        statuses.push((
            resp.status().as_u16(),
            resp.headers().get("retry-after").is_some(),
        ));
    }
    assert_eq!(&statuses[..3], &[(200, false); 3]);
    assert_eq!(statuses[3], (429, true));
    // Another token is not slowed by it.
    let (st, _) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/hs/suggest",
            Some(json!({"description": "shrimp"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
}

/// Rules through the API: a file that does not parse is a problem naming line and column and
/// stores nothing; the author cannot approve their own rules even holding the supervisor role;
/// another supervisor approves and activates; selection then decides with that rule set, and
/// every step is in the audit log under the authenticated actors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_validated_approved_by_another_person_and_decide_selection() {
    let s = start_with(ServerConfig::default(), None, None).await;
    let bad = "rule \"x\"\nwhen origin = \"CN\" and nonsense > 3\nthen lane red reason \"r\"\n";
    for path in ["/v1/rules/validate", "/v1/rules"] {
        let (st, p) = s
            .call(
                Some("dual"),
                Method::POST,
                path,
                Some(json!({"source": bad})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(
            (p["line"].as_u64(), p["column"].as_u64()),
            (Some(2), Some(24)),
            "{p}"
        );
        assert_eq!(p["field"], "source");
        assert!(
            p["detail"].as_str().expect("detail").contains("nonsense"),
            "{p}"
        );
    }
    // Longer than the documented maxLength (262,144 characters, counted as JSON Schema counts
    // them: "é" is one): refused naming `source`, never stored (schemathesis found it taken).
    let long = format!("# {}", "é".repeat(262_143));
    for path in ["/v1/rules/validate", "/v1/rules"] {
        let (st, p) = s
            .call(
                Some("dual"),
                Method::POST,
                path,
                Some(json!({"source": long})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {p}");
        assert_eq!(p["field"], "source");
    }
    let (_, list) = s.call(Some("dual"), Method::GET, "/v1/rules", None).await;
    assert_eq!(list["rule_sets"], json!([]), "a bad file was stored");

    // Before any rule set is active, selection uses no analyst rules.
    let mut batch: Vec<Value> = s.later.iter().take(20).map(declaration_json).collect();
    let target = s.later[3].declaration_id.to_string();
    batch[3]["origin_country"] = json!("CN");
    for (i, d) in batch.iter_mut().enumerate() {
        if i != 3 && d["origin_country"] == "CN" {
            d["origin_country"] = json!("KR");
        }
    }
    let body = json!({"declarations": batch, "red_percent": 10, "yellow_percent": 20, "random_percent": 0, "explore_percent": 0});
    let (st, out) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/lanes/select",
            Some(body.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["rules_version"], "rules-none");

    let (st, v) = s
        .call(
            Some("dual"),
            Method::POST,
            "/v1/rules/validate",
            Some(json!({"source": RULES})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["rules"], json!(["origin-watch"]));
    let (st, up) = s
        .call(
            Some("dual"),
            Method::POST,
            "/v1/rules",
            Some(json!({"source": RULES})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{up}");
    assert_eq!(
        (up["state"].as_str(), up["uploaded_by"].as_str()),
        (Some("draft"), Some("dual.one"))
    );
    let version = up["version"].as_str().expect("version").to_string();
    assert_eq!(version, v["version"].as_str().expect("validated version"));
    let approve = format!("/v1/rules/{version}/approve");
    let activate = format!("/v1/rules/{version}/activate");

    // Not before approval; not by its author, whatever the author's roles.
    let (st, _) = s
        .call(Some("supervisor"), Method::POST, &activate, None)
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, p) = s
        .call(
            Some("dual"),
            Method::POST,
            &approve,
            Some(json!({"reason": "mine"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().expect("detail").contains("four-eyes"),
        "{p}"
    );
    let (st, p) = s
        .call(
            Some("supervisor"),
            Method::POST,
            &approve,
            Some(json!({"reason": " "})),
        )
        .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (st, a) = s
        .call(
            Some("supervisor"),
            Method::POST,
            &approve,
            Some(json!({"reason": "reviewed with the analyst"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["approved_by"], "supervisor.one");
    let (st, a) = s
        .call(Some("supervisor"), Method::POST, &activate, None)
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["active"].as_str(), Some(version.as_str()));
    let (st, one) = s
        .call(
            Some("auditor"),
            Method::GET,
            &format!("/v1/rules/{version}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (one["state"].as_str(), one["source"].as_str()),
        (Some("active"), Some(RULES))
    );

    // Selection now decides with the active rules: the CN declaration by rule.
    let (st, out) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/lanes/select",
            Some(body),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["rules_version"].as_str(), Some(version.as_str()));
    let d = out["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .find(|d| d["declaration_id"] == target.as_str())
        .expect("target decided");
    assert_eq!(d["rule_id"], "origin-watch", "{d}");
    assert!(d["lane"] == "yellow" || d["lane"] == "red", "{d}");
    assert!(
        d["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["text"] == "origin under watch"),
        "{d}"
    );

    let (st, v) = s
        .call(Some("auditor"), Method::GET, "/v1/audit/export", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let log = match v {
        Value::String(t) => t,
        other => other.to_string(),
    };
    for (action, who) in [
        ("rules.upload", "dual.one"),
        ("rules.approve", "supervisor.one"),
        ("rules.activate", "supervisor.one"),
        ("lanes.select", "officer.one"),
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(action) && l.contains(&format!("\"{who}\""))),
            "no {action} by {who} in the audit log"
        );
    }
}

/// Network exposure through the API with a party directory: a declaration whose importer is a
/// listed airline has a path to the listed entity and a screening reason; one whose parties
/// are unknown has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_exposure_of_a_declaration() {
    let (_, _, later) = models();
    let listed = later[0].importer.to_string();
    let csv = format!("party_id,name,address,country\n{listed},MAHAN AIR,Tehran,IR\n");
    let s = start_with(ServerConfig::default(), Some(csv), None).await;
    let decl = declaration_json(&later[0]);
    let (st, x) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/network/exposure",
            Some(json!({"declaration": decl})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{x}");
    assert_eq!(x["declaration_id"], decl["declaration_id"]);
    let paths = x["paths"].as_array().expect("paths");
    assert!(
        paths
            .iter()
            .any(|p| p["party"] == listed.as_str() && p["role"] == "importer"),
        "{x}"
    );
    assert!(!x["reasons"].as_array().expect("reasons").is_empty(), "{x}");

    let mut clean = declaration_json(&later[1]);
    clean["importer"] = json!("UNKNOWN-IMPORTER");
    let (st, x) = s
        .call(
            Some("analyst"),
            Method::POST,
            "/v1/network/exposure",
            Some(json!({"declaration": clean})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{x}");
    assert_eq!(x["paths"], json!([]), "{x}");
    // A field error names the field under `declaration`.
    let mut bad = declaration_json(&later[1]);
    bad["hs_code"] = json!("12");
    let (st, p) = s
        .call(
            Some("analyst"),
            Method::POST,
            "/v1/network/exposure",
            Some(json!({"declaration": bad})),
        )
        .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("declaration.hs_code")
        ),
        "{p}"
    );
}

/// The service's count of names screened against the watchlists (`/metrics`).
async fn watchlist_queries(s: &Server) -> u64 {
    let (st, m) = s.call(None, Method::GET, "/metrics", None).await;
    assert_eq!(st, StatusCode::OK);
    let text = m.as_str().expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix("borderline_watchlist_queries_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no watchlist query counter in {text}"))
}

/// The party directory is screened once, when the service starts: exposure and selection
/// requests screen none of its parties again (the service's watchlist query counter stays
/// where the start left it), and their screening reasons and paths are those of screening the
/// directory for that batch from scratch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reuse_the_directory_screened_at_start() {
    let (_, _, later) = models();
    let listed = later[0].importer.to_string();
    let csv = format!(
        "party_id,name,address,country\n{listed},MAHAN AIR,Tehran,IR\n{},Harbour Lights Ceramics Co,,KR\n{},Nordic Timber Traders AB,,SE\n",
        later[1].importer, later[2].importer
    );
    let s = start_with(ServerConfig::default(), Some(csv.clone()), None).await;
    let at_start = watchlist_queries(&s).await;
    assert_eq!(at_start, 3, "the start screens each of the 3 parties once");

    // The one-time screen of the same directory for the same declaration, from scratch.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("parties.csv");
    std::fs::write(&path, &csv).expect("parties file");
    let parties = borderline_app::screening::Parties::from_files(&path, None).expect("parties");
    let rows = vec![later[0].clone()];
    let fresh = borderline_app::screening::screen_batch(
        &rows,
        borderline_app::screening::bundled_matcher().expect("matcher"),
        parties,
    );
    let (expected, _) =
        borderline_app::screening::exposure(&rows, &fresh, later[0].declaration_id.as_str())
            .expect("exposure");
    let expected = serde_json::to_value(&expected).expect("json");
    assert!(!expected["reasons"].as_array().expect("reasons").is_empty());

    for _ in 0..3 {
        let (st, x) = s
            .call(
                Some("officer"),
                Method::POST,
                "/v1/network/exposure",
                Some(json!({"declaration": declaration_json(&later[0])})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{x}");
        assert_eq!(x["paths"], expected["paths"]);
        assert_eq!(x["reasons"], expected["reasons"]);
    }
    let batch: Vec<Value> = later.iter().take(10).map(declaration_json).collect();
    let (st, out) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/lanes/select",
            Some(json!({"declarations": batch, "random_percent": 0, "explore_percent": 0})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let decided = out["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .find(|d| d["declaration_id"] == later[0].declaration_id.as_str())
        .expect("the listed importer's declaration decided")
        .clone();
    let screening_codes = |reasons: &Value| {
        let mut codes: Vec<String> = reasons
            .as_array()
            .expect("reasons")
            .iter()
            .filter_map(|r| r["code"].as_str())
            .filter(|c| c.starts_with("screening:") || c.starts_with("network:"))
            .map(String::from)
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(
        screening_codes(&decided["reasons"]),
        screening_codes(&expected["reasons"]),
        "{decided}"
    );

    assert_eq!(
        watchlist_queries(&s).await,
        at_start,
        "a request screened directory parties again"
    );
}

/// Monitoring through the API: PSI of the score and features between two periods, and hit
/// rates of recorded inspections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_reports_drift_and_hit_rates() {
    let s = start(ServerConfig::default()).await;
    let reference: Vec<Value> = s.later.iter().take(20).map(declaration_json).collect();
    let recent: Vec<Value> = s.later.iter().skip(20).map(declaration_json).collect();
    let (st, r) = s
        .call(
            Some("auditor"),
            Method::POST,
            "/v1/monitoring",
            Some(json!({"reference": reference, "recent": recent})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["reference_declarations"], 20);
    assert_eq!(r["recent_declarations"], s.later.len() - 20);
    assert!(
        r["score"]["value"].as_f64().expect("score psi") >= 0.0,
        "{r}"
    );
    assert!(!r["features"].as_array().expect("features").is_empty());
    // One recorded inspection shows in the hit rates.
    let did = s.later[0].declaration_id.to_string();
    let (st, _) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/score",
            Some(json!({"declaration": declaration_json(&s.later[0])})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/outcomes",
            Some(json!({"declaration_id": did, "fraud": true, "decided_on": "2021-07-01"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, h) = s
        .call(
            Some("supervisor"),
            Method::GET,
            "/v1/monitoring/hit-rates",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    let rates = h["hit_rates"].as_array().expect("hit rates");
    assert!(
        rates
            .iter()
            .any(|g| g["group"] == "all" && g["inspected"] == 1 && g["frauds"] == 1),
        "{h}"
    );
}

/// A declaration stream in memory: what `POST /v1/declarations/publish` put on it, or a
/// stream that is down.
#[derive(Default)]
struct MemoryQueue {
    bodies: std::sync::Mutex<Vec<Vec<u8>>>,
    down: bool,
}

impl DeclarationQueue for MemoryQueue {
    fn put(&self, bodies: Vec<Vec<u8>>) -> QueueFuture<'_> {
        Box::pin(async move {
            if self.down {
                return Err("connection refused".to_string());
            }
            let n = bodies.len() as u64;
            self.bodies.lock().expect("lock").extend(bodies);
            Ok(n)
        })
    }

    fn destination(&self) -> String {
        "test.declarations".into()
    }
}

/// Issue 13: lodged declarations reach the stream workers through the API as through
/// `borderline publish`: each one message in the generic layout, in order, acknowledged with
/// 202 and the ids; invalid declarations and repeated ids are refused naming the field, with
/// nothing published; a stream that is down is 503, not a lost publication.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lodged_declarations_are_published_on_the_stream_or_refused_whole() {
    let queue = Arc::new(MemoryQueue::default());
    let s = start_with(ServerConfig::default(), None, Some(queue.clone())).await;
    let batch: Vec<Value> = s.later[..3].iter().map(declaration_json).collect();
    let (st, body) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/publish",
            Some(json!({ "declarations": batch })),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["published"], 3);
    assert_eq!(body["subject"], "test.declarations");
    let ids: Vec<String> = s.later[..3]
        .iter()
        .map(|d| d.declaration_id.to_string())
        .collect();
    assert_eq!(body["declaration_ids"], json!(ids));
    {
        let put = queue.bodies.lock().expect("lock");
        assert_eq!(put.len(), 3);
        for (body, id) in put.iter().zip(&ids) {
            let d = borderline_app::stream::parse_message(body).expect("a stream message");
            assert_eq!(d.declaration_id.to_string(), *id);
        }
    }

    let mut bad = batch.clone();
    bad[1]["hs_code"] = json!("not a code");
    let (st, body) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/publish",
            Some(json!({ "declarations": bad })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("declarations[1]"), "{body}");
    let (st, body) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/publish",
            Some(json!({ "declarations": [batch[0].clone(), batch[0].clone()] })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("declarations[1].declaration_id"),
        "{body}"
    );
    assert_eq!(
        queue.bodies.lock().expect("lock").len(),
        3,
        "nothing more published"
    );
    let (st, _) = s
        .call(
            Some("trader"),
            Method::POST,
            "/v1/declarations/publish",
            Some(json!({ "declarations": [batch[0].clone()] })),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let down = Arc::new(MemoryQueue {
        down: true,
        ..MemoryQueue::default()
    });
    let s = start_with(ServerConfig::default(), None, Some(down)).await;
    let (st, body) = s
        .call(
            Some("officer"),
            Method::POST,
            "/v1/declarations/publish",
            Some(json!({ "declarations": [batch[0].clone()] })),
        )
        .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.to_string().contains("declaration stream"), "{body}");
}
