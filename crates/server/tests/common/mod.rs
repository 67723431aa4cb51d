//! A real server for the web tests: loopback port, temporary SQLite store, one password
//! account per role (and an analyst-supervisor for four-eyes), a small model trained here and
//! approved and activated, and a ranked batch recorded by the officer so the queue has rows.

#![allow(dead_code)]

use borderline_app::identity;
use borderline_app::training::{train_model, TrainConfig, TrainRequest};
use borderline_core::Declaration;
use borderline_governance::identity::NewAccount;
use borderline_governance::{GovernanceStore, Role};
use borderline_ingest::{read_all, Profile};
use borderline_server::{AppState, ServerConfig};
use borderline_store_sqlite::SqliteStore;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

pub const PASSWORD: &str = "a long test passphrase 1";

/// The goods description given to the first ranked declaration.
pub const DESCRIPTION: &str = "static converters for battery chargers";

fn rows(split: &str, every: usize) -> Vec<Declaration> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/declarations/kcs_{split}.csv.gz"));
    let profile = Profile::resolve("korea-customs").expect("profile");
    let (rows, _, _) = read_all(&path, profile).expect("bundled declarations");
    rows.into_iter().step_by(every).collect()
}

fn model(lr: f64) -> Vec<u8> {
    let config = TrainConfig {
        learning_rate: lr,
        max_rounds: 10,
        threads: 1,
        ..TrainConfig::default()
    };
    let req = TrainRequest {
        train: rows("train", 20),
        valid: rows("valid", 10),
        recorded: Vec::new(),
        config,
    };
    train_model(req, &|_| {}).expect("train").0.to_bytes()
}

pub fn declaration_json(d: &Declaration) -> Value {
    let mut v = serde_json::to_value(d).expect("declaration json");
    let obj = v.as_object_mut().expect("object");
    obj.remove("outcome");
    obj.retain(|_, x| !x.is_null());
    v
}

pub struct Server {
    pub base: String,
    /// The importer the trader account acts for, and one it does not.
    pub importer: String,
    pub other_importer: String,
    /// Declarations ranked by the officer (their decisions are in the audit log).
    pub ranked: Vec<Declaration>,
    /// The listed company's name that the importer's owner bears (party directory).
    pub listed: String,
    /// The listed company's name that the seller bears.
    pub listed_for_seller: String,
    /// Audit records the witness file's one signed checkpoint vouches for.
    pub checkpointed: u64,
    /// The valuation benchmarks the server holds.
    pub benchmarks: borderline_valuation::Benchmarks,
    /// A model registered by `dual.one` (analyst and supervisor), still a draft.
    pub draft_version: String,
    /// The server's store and its administrator, for changes behind the pages' back.
    pub store: Arc<dyn GovernanceStore>,
    pub admin: borderline_governance::identity::Principal,
    _dir: tempfile::TempDir,
}

pub const ACCOUNTS: [(&str, &[Role]); 8] = [
    ("officer.one", &[Role::Officer]),
    ("officer.two", &[Role::Officer]),
    ("analyst.one", &[Role::Analyst]),
    ("supervisor.one", &[Role::Supervisor]),
    ("auditor.one", &[Role::Auditor]),
    ("admin.one", &[Role::Admin]),
    ("trader.one", &[Role::Trader]),
    ("dual.one", &[Role::Analyst, Role::Supervisor]),
];

pub async fn start() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn GovernanceStore> =
        Arc::new(SqliteStore::open(&dir.path().join("gov.db")).expect("store"));
    let (_, root) =
        identity::bootstrap_admin(store.as_ref(), "root", None, "a long admin passphrase")
            .expect("bootstrap");
    let admin = identity::authenticate_token(store.as_ref(), &root.secret).expect("admin");
    let mut batch: Vec<Declaration> = rows("test", 25).into_iter().take(120).collect();
    // The first declaration carries a goods description (the bundled data has none), so its
    // case page can check the declared HS code against the classifier's suggestions.
    batch[0].description = Some(DESCRIPTION.into());
    let as_of = batch.iter().map(|d| d.date).min().expect("a batch");
    let history = rows("train", 4);
    let benchmarks = borderline_valuation::Benchmarks::build(
        borderline_valuation::Config::default(),
        history.iter(),
        as_of,
    )
    .expect("benchmarks");
    let importer = batch[0].importer.to_string();
    let other_importer = batch
        .iter()
        .map(|d| d.importer.to_string())
        .find(|i| *i != importer)
        .expect("a second importer");
    for (id, roles) in ACCOUNTS {
        identity::create_account(
            store.as_ref(),
            &admin,
            &NewAccount {
                id: id.into(),
                display_name: None,
                roles: roles.to_vec(),
                importer_ids: if roles.contains(&Role::Trader) {
                    vec![importer.clone()]
                } else {
                    vec![]
                },
                password: Some(PASSWORD.into()),
            },
        )
        .expect("account");
    }
    let token = |id: &str| {
        identity::create_token(store.as_ref(), &admin, id, "test", None)
            .expect("token")
            .secret
    };
    let (analyst, supervisor, officer, dual) = (
        token("analyst.one"),
        token("supervisor.one"),
        token("officer.one"),
        token("dual.one"),
    );
    // Parties: the first declaration's importer is owned by a company that bears a listed
    // entity's name (two links to the list), and its seller bears another listed company's name
    // in title case (one link).
    let matcher = borderline_app::screening::bundled_matcher().expect("watchlists");
    let mut companies = matcher.entries().iter().filter(|e| {
        e.list == "ofac_sdn"
            && e.name.ends_with(" LLC")
            && e.name.split_whitespace().count() == 3
            && e.name.is_ascii()
    });
    let listed = companies.next().expect("a listed company").name.clone();
    let listed_for_seller = companies.next().expect("a second one").name.clone();
    let first = &batch[0];
    let seller = first
        .seller
        .clone()
        .expect("the first declaration names its seller");
    let seller_name: String = listed_for_seller
        .split_whitespace()
        .map(|w| {
            let (a, b) = w.split_at(1);
            format!("{a}{}", b.to_lowercase())
        })
        .collect::<Vec<_>>()
        .join(" ");
    let directory = dir.path().join("parties.csv");
    std::fs::write(
        &directory,
        format!(
            "party_id,name,address,country,schema\n{},Harbour Lights Ceramics Co,,KR,company\n{seller},{seller_name},,VN,company\nOWNER1,\"{listed}\",,,company\n",
            first.importer
        ),
    )
    .expect("party directory");
    let relationships = dir.path().join("relationships.csv");
    std::fs::write(
        &relationships,
        format!("from,to,relation\nOWNER1,{},owner\n", first.importer),
    )
    .expect("relationships");
    let parties = borderline_app::screening::Parties::from_files(&directory, Some(&relationships))
        .expect("parties");
    // A checkpoint key and its witness file (the checkpoint is signed once the batch is ranked).
    let key = dir.path().join("checkpoint.key");
    let keys = borderline_app::governance::audit::keygen(&key).expect("checkpoint key");
    let witness = borderline_app::governance::audit::Witness {
        file: dir.path().join("witness.jsonl"),
        public_key: keys.public_key,
    };
    let state = AppState::new(
        store.clone(),
        ServerConfig::default(),
        Some(benchmarks.clone()),
    )
    .expect("state")
    .with_parties(parties)
    .expect("parties screened")
    .with_witness(witness.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(borderline_server::serve(
        listener,
        Arc::new(state),
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    let c = Client::new();
    let api = |tok: &str, path: &str, body: Option<Value>, bytes: Option<Vec<u8>>| {
        let mut r = c.post(format!("{base}{path}")).bearer_auth(tok);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        if let Some(b) = bytes {
            r = r.header("content-type", "application/octet-stream").body(b);
        }
        async move {
            let resp = r.send().await.expect("request");
            let st = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(st.is_success(), "{st} {v}");
            v
        }
    };
    // The model lifecycle through the API; then a second model left as a draft.
    let (first, second) = tokio::task::spawn_blocking(|| (model(0.1), model(0.2)))
        .await
        .expect("training");
    let v = api(&analyst, "/v1/models", None, Some(first)).await;
    let version = v["version"].as_str().expect("version").to_string();
    api(
        &supervisor,
        &format!("/v1/models/{version}/approve"),
        Some(json!({"reason": "validated"})),
        None,
    )
    .await;
    api(
        &supervisor,
        &format!("/v1/models/{version}/activate"),
        None,
        None,
    )
    .await;
    let v = api(&dual, "/v1/models", None, Some(second)).await;
    let draft_version = v["version"].as_str().expect("version").to_string();
    let decls: Vec<Value> = batch.iter().map(declaration_json).collect();
    api(
        &officer,
        "/v1/declarations/rank",
        Some(json!({"declarations": decls, "red_percent": 10, "yellow_percent": 10})),
        None,
    )
    .await;
    let checkpoint =
        borderline_app::governance::audit::checkpoint(store.as_ref(), &key, &witness.file)
            .expect("checkpoint");
    Server {
        checkpointed: checkpoint.length,
        base,
        importer,
        other_importer,
        ranked: batch,
        listed,
        listed_for_seller,
        benchmarks,
        draft_version,
        store,
        admin,
        _dir: dir,
    }
}

/// A browser-like client over HTTP: keeps the session cookie, follows no redirect itself.
pub struct Browser {
    pub base: String,
    client: Client,
    pub cookie: Option<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
        Some(self.body[at..].split('"').next()?.to_string())
    }
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.into(),
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    async fn send(&mut self, r: reqwest::RequestBuilder) -> Page {
        let r = match &self.cookie {
            Some(c) => r.header("cookie", format!("borderline_session={c}")),
            None => r,
        };
        let resp = r.send().await.expect("request");
        let set_cookie: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        for c in &set_cookie {
            if let Some(v) = c
                .strip_prefix("borderline_session=")
                .and_then(|r| r.split(';').next())
            {
                self.cookie = Some(v.to_string()).filter(|v| !v.is_empty());
            }
        }
        Page {
            status: resp.status(),
            location: resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            set_cookie,
            body: resp.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self.client.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        self.send(r).await
    }

    pub async fn post_multipart(&mut self, path: &str, csrf: &str, file: &str) -> Page {
        let b = "XborderlineBoundaryX";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"mine.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{b}--\r\n"
        );
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", format!("multipart/form-data; boundary={b}"))
            .body(body);
        self.send(r).await
    }

    /// A multipart form with the session's token and named CSV files.
    pub async fn post_files(&mut self, path: &str, csrf: &str, files: &[(&str, &str)]) -> Page {
        self.post_fields_and_files(path, csrf, &[], files).await
    }

    /// A multipart form with the session's token, text fields and named CSV files.
    pub async fn post_fields_and_files(
        &mut self,
        path: &str,
        csrf: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str)],
    ) -> Page {
        let b = "XborderlineBoundaryX";
        let mut body =
            format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n");
        for (name, value) in fields {
            body.push_str(&format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        for (name, content) in files {
            body.push_str(&format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.csv\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n"
            ));
        }
        body.push_str(&format!("--{b}--\r\n"));
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", format!("multipart/form-data; boundary={b}"))
            .body(body);
        self.send(r).await
    }

    /// Signs in through the form (its CSRF token included); panics unless it succeeds.
    pub async fn sign_in(&mut self, account: &str) -> Page {
        let form = self.get("/sign-in").await;
        let csrf = form.csrf().expect("sign-in form has a csrf token");
        let p = self
            .post_form(
                "/sign-in",
                &[
                    ("csrf", &csrf),
                    ("account", account),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        p
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Declarations as CSV in the generic layout, their customs values multiplied by `value_factor`.
pub fn generic_csv(rows: &[Declaration], value_factor: f64) -> String {
    let mut out = String::from(
        "declaration_id,date,importer,hs_code,origin_country,office,net_mass_kg,customs_value,currency\n",
    );
    for d in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            d.declaration_id,
            d.date,
            d.importer,
            d.hs_code,
            d.origin_country,
            d.office,
            d.net_mass_kg.map(|m| m.to_string()).unwrap_or_default(),
            d.customs_value
                .map(|v| (v * value_factor).to_string())
                .unwrap_or_default(),
            d.currency,
        ));
    }
    out
}

/// Decisions on `ids` hit by analyst rules `rules` (reasons of kind rule, as lane selection
/// records them), appended to the server's store.
pub fn record_rule_hits(s: &Server, ids: &[&str], rules: &[&str], score: f64) {
    use borderline_core::{Lane, Reason, ReasonKind};
    use borderline_governance::audit::{AuditEvent, AuditLog, Decision, DecisionSubject};
    use borderline_governance::selectivity::Basis;
    let events: Vec<AuditEvent> = ids
        .iter()
        .map(|id| {
            AuditEvent::Decision(Decision {
                declaration_id: (*id).into(),
                input_hash: "0".repeat(64),
                model_version: "m".into(),
                rules_version: "rules-1".into(),
                score,
                lane: Lane::Red,
                basis: Basis::Rule,
                why: format!("analyst rule {}", rules.first().copied().unwrap_or("none")),
                reasons: rules
                    .iter()
                    .map(|r| Reason {
                        kind: ReasonKind::Rule,
                        code: (*r).into(),
                        text: format!("flagged by analyst rule {r}"),
                        contribution: None,
                    })
                    .collect(),
                subject: Some(DecisionSubject {
                    importer: s.importer.clone(),
                    hs_code: "850440".into(),
                    office: "999".into(),
                    date: "2021-06-01".into(),
                }),
            })
        })
        .collect();
    let officer = borderline_governance::Actor::new("officer.one").expect("actor");
    AuditLog::new(s.store.as_ref())
        .append_all(&officer, &events)
        .expect("append");
}
