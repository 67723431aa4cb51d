//! The endpoints: each authenticates and authorizes, makes one call into `borderline_app`
//! (on the blocking pool: scoring and the store are CPU and disk work), and answers JSON.

use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use crate::AppState;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use borderline_app::governance::{
    audit, feedback, models, monitor as app_monitor, rules as app_rules, select,
};
use borderline_app::screening::Party;
use borderline_app::targeting::Reasons;
use borderline_app::{decisions, declarations, selfcheck, yente, AppError};
use borderline_governance::feedback::Outcome;
use borderline_governance::identity::{Permission, Principal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{OpenApi, ToSchema};

type St = State<Arc<AppState>>;
type ApiResult<T> = Result<Json<T>, ApiError>;

/// Runs a use case on the blocking pool; a panic in it is a 500, never a dropped connection.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, ApiError> {
    let span = tracing::Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(f)).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "use case panicked");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server could not complete the request",
            ))
        }
    }
}

// ---------------------------------------------------------------- request and response types

/// A small optional integer that also accepts JSON numbers like `17.0` (an integer to JSON
/// Schema); fractions and out-of-range values are refused with the field named.
fn small_int<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let v: Option<f64> = Option::deserialize(d)?;
    match v {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && (0.0..=255.0).contains(&x) => Ok(Some(x as u8)),
        Some(x) => Err(serde::de::Error::custom(format!(
            "{x} is not an integer from 0 to 255"
        ))),
    }
}

/// A declaration, keyed by the generic profile's field names (README, "Input layouts").
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct DeclarationIn {
    #[schema(min_length = 1, pattern = "[^\\s]")]
    pub declaration_id: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date: String,
    #[schema(min_length = 1, pattern = "[^\\s]")]
    pub importer: String,
    /// 6 to 10 digits.
    #[schema(pattern = "^[0-9]{6,10}$")]
    pub hs_code: String,
    /// ISO 3166 alpha-2 or alpha-3.
    #[schema(pattern = "^[A-Za-z]{2,3}$")]
    pub origin_country: String,
    #[schema(minimum = 0)]
    pub net_mass_kg: f64,
    #[schema(minimum = 0)]
    pub customs_value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declarant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courier: Option<String>,
    /// ISO 3166 alpha-2 or alpha-3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^([A-Za-z]{2,3})?$")]
    pub departure_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Duty rate in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub tax_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_indicator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub quantity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_unit: Option<String>,
}

/// Converts request declarations through the ingest row validation; errors name
/// `{prefix}[i].field` (or `{prefix}.field` for a single one).
fn to_declarations(
    rows: &[DeclarationIn],
    prefix: &str,
    single: bool,
) -> Result<Vec<borderline_core::Declaration>, AppError> {
    let values: Vec<serde_json::Value> = rows
        .iter()
        .map(|d| serde_json::to_value(d).map_err(|e| AppError::Invalid(e.to_string())))
        .collect::<Result<_, _>>()?;
    declarations::from_json_objects(&values).map_err(|e| match e {
        AppError::Field { field, problem } => {
            let field = if single {
                format!("{prefix}{}", field.trim_start_matches("[0]"))
            } else {
                format!("{prefix}{field}")
            };
            AppError::Field { field, problem }
        }
        other => other,
    })
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReasonMethod {
    #[default]
    Exact,
    Fast,
    None,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ScoreRequest {
    pub declaration: DeclarationIn,
    /// How to explain red and yellow lanes (default exact TreeSHAP).
    #[serde(default)]
    pub reasons: ReasonMethod,
    /// Model reasons per declaration (1-20, default 5).
    #[serde(default, deserialize_with = "small_int")]
    #[schema(minimum = 1, maximum = 20)]
    pub top_reasons: Option<u8>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RankRequest {
    /// 1 to 10,000 declarations decided together (and within the body size limit).
    #[schema(min_items = 1)]
    pub declarations: Vec<DeclarationIn>,
    /// Red lane share in percent (default 5).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50)]
    pub red_percent: Option<f64>,
    /// Yellow lane share in percent (default 10).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50)]
    pub yellow_percent: Option<f64>,
    #[serde(default)]
    pub reasons: ReasonMethod,
    #[serde(default, deserialize_with = "small_int")]
    #[schema(minimum = 1, maximum = 20)]
    pub top_reasons: Option<u8>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PublishRequest {
    /// 1 to 10,000 lodged declarations for the stream workers (and within the body size
    /// limit); ids differ within one request.
    #[schema(min_items = 1)]
    pub declarations: Vec<DeclarationIn>,
}

/// What the stream stored: each declaration is decided once per model version by a worker,
/// and its decision is then found at `GET /v1/decisions/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishReceipt {
    pub published: u64,
    /// The subject the declarations were published on.
    pub subject: String,
    pub declaration_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonOut {
    /// `model`, `module`, `rule`, `screening`, ...
    #[schema(value_type = String)]
    pub kind: serde_json::Value,
    pub code: String,
    pub text: String,
    pub contribution: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionOut {
    pub declaration_id: String,
    /// Rank in the batch (1 = riskiest); absent for a single declaration.
    pub rank: Option<u64>,
    /// Calibrated probability of fraud.
    pub risk_score: f64,
    /// `red`, `yellow`, `blue` or `green`.
    pub lane: String,
    pub reasons: Vec<ReasonOut>,
    pub model_version: String,
}

fn lane_name<T: Serialize>(lane: &T) -> String {
    serde_json::to_value(lane)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn reasons_out(reasons: &[borderline_core::Reason]) -> Vec<ReasonOut> {
    reasons
        .iter()
        .map(|r| ReasonOut {
            kind: serde_json::to_value(r.kind).unwrap_or_default(),
            code: r.code.clone(),
            text: r.text.clone(),
            contribution: r.contribution,
        })
        .collect()
}

fn decision_out(d: decisions::Decided) -> DecisionOut {
    DecisionOut {
        lane: lane_name(&d.lane),
        reasons: reasons_out(&d.reasons),
        declaration_id: d.declaration_id,
        rank: d.rank.map(|r| r as u64),
        risk_score: d.risk_score,
        model_version: d.model_version,
    }
}

fn reasons_of(method: ReasonMethod, top: Option<u8>) -> Result<Reasons, AppError> {
    let top = top.unwrap_or(5);
    if !(1..=20).contains(&top) {
        return Err(AppError::Field {
            field: "top_reasons".into(),
            problem: "between 1 and 20".into(),
        });
    }
    use borderline_app::targeting::Explain;
    Ok(Reasons {
        method: match method {
            ReasonMethod::Exact => Some(Explain::Exact),
            ReasonMethod::Fast => Some(Explain::Fast),
            ReasonMethod::None => None,
        },
        top: top as usize,
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankResponse {
    pub decisions: Vec<DecisionOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedDecision {
    pub declaration_id: String,
    pub input_hash: String,
    pub model_version: String,
    pub rules_version: String,
    pub score: f64,
    pub lane: String,
    /// `score`, `rule`, `random`, `exploration`, `release`.
    pub basis: String,
    pub why: String,
    pub reasons: Vec<ReasonOut>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OutcomeIn {
    #[schema(min_length = 1, pattern = "[^\\s]")]
    pub declaration_id: String,
    pub fraud: bool,
    /// `YYYY-MM-DD` (default today).
    #[serde(default)]
    #[schema(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub decided_on: Option<String>,
    /// e.g. `inspected`, `released`, `seized` (default `inspected`).
    #[serde(default)]
    pub decision: Option<String>,
    /// 0 none, 1 fraud, 2 critical (default 1 when fraud, else 0).
    #[serde(default, deserialize_with = "small_int")]
    #[schema(minimum = 0, maximum = 2)]
    pub critical_level: Option<u8>,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub amount_recovered: Option<f64>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeRecorded {
    pub id: i64,
    /// The authenticated actor the audit record names.
    pub recorded_by: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DeclarationBody {
    pub declaration: DeclarationIn,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SuggestRequest {
    pub description: String,
    /// How many codes (1-20, default 5).
    #[serde(default, deserialize_with = "small_int")]
    #[schema(minimum = 1, maximum = 20)]
    pub k: Option<u8>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct HsCheckRequest {
    pub description: String,
    pub declared: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PartyIn {
    #[schema(min_length = 1, pattern = "[^\\s]")]
    pub name: String,
    /// `company`, `person`, `vessel`, `aircraft`.
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Date or year of birth: text holding a year 1900-2099 ("1965", "1965-04-29"), or empty.
    #[serde(default)]
    #[schema(pattern = "^\\s*$|(^|[^0-9])(19|20)[0-9]{2}([^0-9]|$)")]
    pub birth_date: Option<String>,
}

impl PartyIn {
    fn party(&self) -> Party {
        Party {
            id: None,
            name: self.name.clone(),
            schema: self.schema.clone(),
            country: self.country.clone(),
            address: self.address.clone(),
            birth_date: self.birth_date.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ScreenRequest {
    pub party: PartyIn,
    /// Most hits (1-50, default 10).
    #[serde(default, deserialize_with = "small_int")]
    #[schema(minimum = 1, maximum = 50)]
    pub limit: Option<u8>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SelfCheckRequest {
    pub declaration: DeclarationIn,
    /// The declaration's counterparties (seller, consignor, ...) to screen.
    #[serde(default)]
    pub counterparties: Vec<PartyIn>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReasonBody {
    #[schema(min_length = 1, pattern = "[^\\s]")]
    pub reason: String,
}

/// One yente query: `{"schema": "Company", "properties": {"name": ["..."], "country": ["ru"]}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EntityQueryIn {
    /// FollowTheMoney schema: `Company`, `Person`, `Organization`, `Vessel`, `Thing`, ...
    pub schema: String,
    /// Property lists, e.g. `name`, `country`, `address`, `birthDate`.
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, Vec<String>>,
}

/// A yente `/match` request: queries keyed by the caller's ids.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MatchRequestIn {
    pub queries: std::collections::BTreeMap<String, EntityQueryIn>,
}

#[derive(Debug, Clone, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchParams {
    /// Results per query, 1 to 50 (default 5); another number is refused, as yente does.
    #[serde(default)]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

// ----------------------------------------------------------- selection, monitoring, network

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SelectIn {
    /// 1 to 10,000 declarations decided together (and within the body size limit).
    #[schema(min_items = 1)]
    pub declarations: Vec<DeclarationIn>,
    /// What is decided (a batch id), recorded with the selection in the audit log.
    #[serde(default)]
    pub subject: Option<String>,
    /// Red lane share in percent (default 2).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub red_percent: Option<f64>,
    /// Yellow lane share in percent (default 5).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub yellow_percent: Option<f64>,
    /// Blue lane share in percent (default 1).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub blue_percent: Option<f64>,
    /// Random share inside the red capacity, percent (default 0.5).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub random_percent: Option<f64>,
    /// Exploration share inside the red capacity, percent (default 1).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub explore_percent: Option<f64>,
    /// Seed of the random draw (same seed, same lanes).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 9007199254740991_u64)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub reasons: ReasonMethod,
    #[serde(default, deserialize_with = "small_int")]
    #[schema(minimum = 1, maximum = 20)]
    pub top_reasons: Option<u8>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LaneDecisionOut {
    pub declaration_id: String,
    /// `red`, `yellow`, `blue` or `green`.
    pub lane: String,
    /// `score`, `rule`, `random`, `exploration`, `release`.
    pub basis: String,
    pub score: f64,
    /// 1-based rank by score in the batch.
    pub score_rank: u64,
    pub rule_id: Option<String>,
    pub why: String,
    pub reasons: Vec<ReasonOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SelectOut {
    pub model_version: String,
    /// The active approved rule set that decided (`rules-none` when none is active).
    pub rules_version: String,
    pub rules: u64,
    /// In input order.
    pub decisions: Vec<LaneDecisionOut>,
    /// Declarations per lane.
    pub lanes: BTreeMap<String, u64>,
    /// Audit sequence numbers of the decisions and of the closing selection record.
    pub audit_records: Vec<u64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MonitorIn {
    /// Declarations of the reference period (e.g. the model's validation period); at most
    /// 10,000.
    pub reference: Vec<DeclarationIn>,
    /// Recent declarations to compare with it; at most 10,000.
    pub recent: Vec<DeclarationIn>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ExposureIn {
    pub declaration: DeclarationIn,
    /// Other declarations of the same batch (at most 10,000): their parties' links belong to
    /// the supplier network too.
    #[serde(default)]
    pub related: Vec<DeclarationIn>,
}

// ------------------------------------------------------------------------------- rules

/// Longest rule file, in characters: the rule language's own limit (a longer file is a syntax
/// error, 422 naming `source` with its line and column, like any other), stated in the schema
/// as the `maxLength` of `RulesIn.source` (a literal there; the assertion keeps the two equal).
pub use borderline_governance::rules::MAX_RULE_SOURCE_CHARS;
const _: () = assert!(MAX_RULE_SOURCE_CHARS == 262_144);

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RulesIn {
    /// The rule file's text (see docs/governance.md, "Rules").
    #[schema(max_length = 262144)]
    pub source: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RulesValidated {
    /// The version decisions would record (a content hash).
    pub version: String,
    /// Rule ids in file order.
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleSetOut {
    pub version: String,
    /// `draft`, `approved`, `active` or `retired`.
    pub state: String,
    pub rules: u64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub approved_by: Option<String>,
    pub approval_reason: Option<String>,
    pub approved_at: Option<String>,
    pub activated_at: Option<String>,
    pub retired_at: Option<String>,
    /// The rule file's text (only for a single rule set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl RuleSetOut {
    fn of(e: borderline_governance::rulebook::RuleSetEntry, with_source: bool) -> Self {
        RuleSetOut {
            version: e.version,
            state: e.state.as_str().to_string(),
            rules: e.rules as u64,
            sha256: e.sha256,
            uploaded_by: e.uploaded_by,
            uploaded_at: e.uploaded_at,
            approved_by: e.approved_by,
            approval_reason: e.approval_reason,
            approved_at: e.approved_at,
            activated_at: e.activated_at,
            retired_at: e.retired_at,
            source: with_source.then_some(e.source),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleSetList {
    pub rule_sets: Vec<RuleSetOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// The model new requests are scored with.
    pub active_model: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivationOut {
    pub active: String,
    pub replaced: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RollbackOut {
    pub retired: String,
    pub reactivated: String,
}

/// Any JSON object (a module's own result type, documented in docs/).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct AnyObject(serde_json::Value);

fn object<T: Serialize>(v: &T) -> Result<AnyObject, AppError> {
    serde_json::to_value(v)
        .map(AnyObject)
        .map_err(|e| AppError::Invalid(e.to_string()))
}

// ------------------------------------------------------------------------------ handlers

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz(State(st): St) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        active_model: st.scorer.current().map(|s| s.model().model_id.clone()),
    })
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String, content_type = "text/plain")))]
async fn metrics(State(st): St) -> Response {
    let active = st.scorer.current().map(|s| s.model().model_id.clone());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics
            .render(active.as_deref(), st.matcher.queries_screened()),
    )
        .into_response()
}

async fn openapi_json() -> Response {
    match serde_json::to_value(openapi()).map(constrain) {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => ApiError::from(AppError::Invalid(e.to_string())).into_response(),
    }
}

/// Constraints the handler types cannot state through utoipa, added to the served document
/// so that it says exactly what the server accepts: a party's country is one of the ISO codes
/// the screening knows (or empty), and an outcome's critical level agrees with `fraud` (0
/// without fraud, 1 or 2 with it).
fn constrain(mut doc: serde_json::Value) -> serde_json::Value {
    let schemas = &mut doc["components"]["schemas"];
    if let Some(country) = schemas
        .pointer_mut("/PartyIn/properties/country")
        .and_then(|c| c.as_object_mut())
    {
        let mut codes: Vec<serde_json::Value> = borderline_app::screening::country_codes()
            .into_iter()
            .map(serde_json::Value::from)
            .collect();
        codes.push(serde_json::Value::from(""));
        codes.push(serde_json::Value::Null);
        country.insert("enum".into(), serde_json::Value::Array(codes));
        country.insert(
            "description".into(),
            "ISO 3166 alpha-2 code (empty or null: not given)".into(),
        );
    }
    if let Some(kind) = schemas
        .pointer_mut("/PartyIn/properties/schema")
        .and_then(|c| c.as_object_mut())
    {
        kind.insert(
            "enum".into(),
            serde_json::json!(["company", "person", "vessel", "aircraft", "unknown", "", null]),
        );
    }
    if let Some(outcome) = schemas.get_mut("OutcomeIn").and_then(|o| o.as_object_mut()) {
        outcome.insert(
            "anyOf".into(),
            serde_json::json!([
                {"properties": {"fraud": {"const": false}, "critical_level": {"enum": [0, null]}}},
                {"properties": {"fraud": {"const": true}, "critical_level": {"enum": [1, 2, null]}}}
            ]),
        );
    }
    doc
}

async fn docs_page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

#[utoipa::path(post, path = "/v1/declarations/score", request_body = ScoreRequest,
    responses((status = 200, body = DecisionOut)), security(("bearer" = [])))]
async fn score(
    State(st): St,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<ScoreRequest>,
) -> ApiResult<DecisionOut> {
    let scorer = st.scorer.current();
    let caps = st.config.capacities;
    let store = st.store.clone();
    let out = blocking(move || {
        let reasons = reasons_of(req.reasons, req.top_reasons)?;
        let d = to_declarations(std::slice::from_ref(&req.declaration), "declaration", true)?;
        decisions::score_and_record(
            store.as_ref(),
            &who.actor,
            scorer.as_deref(),
            &d[0],
            caps,
            reasons,
            chrono::Utc::now().date_naive(),
        )
    })
    .await?;
    Ok(Json(decision_out(out)))
}

const MAX_BATCH: usize = 10_000;

#[utoipa::path(post, path = "/v1/declarations/rank", request_body = RankRequest,
    responses((status = 200, body = RankResponse)), security(("bearer" = [])))]
async fn rank(
    State(st): St,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<RankRequest>,
) -> ApiResult<RankResponse> {
    if req.declarations.is_empty() || req.declarations.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "declarations",
            format!("1 to {MAX_BATCH} declarations"),
        ));
    }
    let mut caps = st.config.capacities;
    for (name, given, slot) in [
        ("red_percent", req.red_percent, &mut caps.red_percent),
        (
            "yellow_percent",
            req.yellow_percent,
            &mut caps.yellow_percent,
        ),
    ] {
        if let Some(p) = given {
            if !(0.0..=50.0).contains(&p) {
                return Err(ApiError::invalid(name, "a percentage between 0 and 50"));
            }
            *slot = p;
        }
    }
    if caps.red_percent + caps.yellow_percent > 100.0 {
        return Err(ApiError::invalid(
            "yellow_percent",
            "red and yellow shares exceed 100%",
        ));
    }
    let scorer = st.scorer.current();
    let store = st.store.clone();
    let out = blocking(move || {
        let reasons = reasons_of(req.reasons, req.top_reasons)?;
        let rows = to_declarations(&req.declarations, "declarations", false)?;
        decisions::rank_and_record(
            store.as_ref(),
            &who.actor,
            scorer.as_deref(),
            &rows,
            caps,
            reasons,
            chrono::Utc::now().date_naive(),
        )
    })
    .await?;
    Ok(Json(RankResponse {
        decisions: out.into_iter().map(decision_out).collect(),
    }))
}

#[utoipa::path(post, path = "/v1/declarations/publish", request_body = PublishRequest,
    responses((status = 202, body = PublishReceipt)), security(("bearer" = [])))]
async fn publish(
    State(st): St,
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<PublishRequest>,
) -> Result<(StatusCode, Json<PublishReceipt>), ApiError> {
    if req.declarations.is_empty() || req.declarations.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "declarations",
            format!("1 to {MAX_BATCH} declarations"),
        ));
    }
    let queue = st.queue.clone().ok_or_else(|| {
        AppError::Unavailable(
            "this server was started without a declaration stream (serve --nats URL)".into(),
        )
    })?;
    let rows = blocking(move || to_declarations(&req.declarations, "declarations", false)).await?;
    let p = borderline_app::stream::publish(queue.as_ref(), &rows).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PublishReceipt {
            published: p.published,
            subject: p.subject,
            declaration_ids: p.declaration_ids,
        }),
    ))
}

#[utoipa::path(get, path = "/v1/decisions/{id}", params(("id" = String, Path, description = "declaration id")),
    responses((status = 200, body = RecordedDecision)), security(("bearer" = [])))]
async fn decision(
    State(st): St,
    Extension(_who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<RecordedDecision> {
    let store = st.store.clone();
    let key = id.clone();
    let found = blocking(move || decisions::lookup(store.as_ref(), &key)).await?;
    let d = found.ok_or_else(|| {
        ApiError::not_found(format!("no decision recorded for declaration {id:?}"))
    })?;
    Ok(Json(RecordedDecision {
        lane: lane_name(&d.lane),
        basis: lane_name(&d.basis),
        reasons: reasons_out(&d.reasons),
        declaration_id: d.declaration_id,
        input_hash: d.input_hash,
        model_version: d.model_version,
        rules_version: d.rules_version,
        score: d.score,
        why: d.why,
    }))
}

#[utoipa::path(get, path = "/v1/decisions/{id}/explanation", params(("id" = String, Path, description = "declaration id")),
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
/// Any recorded decision, green included, explained on demand: exact contributions of the
/// model that decided, on the input stored with the decision (`status`: `computed`,
/// `other_model` or `input_not_stored`). Nothing is recorded.
async fn decision_explanation(
    State(st): St,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<AnyObject> {
    let (store, scorer) = (st.store.clone(), st.scorer.current());
    let key = id.clone();
    let found = blocking(move || {
        let Some(d) = decisions::lookup(store.as_ref(), &key)? else {
            return Ok(None);
        };
        let x = borderline_app::cases::explain_on_demand(
            store.as_ref(),
            &who,
            scorer.as_deref(),
            &d,
            8,
        )?;
        Ok(Some(object(&x)?))
    })
    .await?;
    let out = found.ok_or_else(|| {
        ApiError::not_found(format!("no decision recorded for declaration {id:?}"))
    })?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/outcomes", request_body = OutcomeIn,
    responses((status = 201, body = OutcomeRecorded)), security(("bearer" = [])))]
async fn outcome(
    State(st): St,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<OutcomeIn>,
) -> Result<(StatusCode, Json<OutcomeRecorded>), ApiError> {
    let today = chrono::Utc::now().date_naive();
    let decided_on = match req.decided_on.as_deref() {
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid("decided_on", "a date YYYY-MM-DD"))?,
        None => today,
    };
    let o = Outcome {
        declaration_id: req.declaration_id,
        decided_on,
        decision: req.decision.unwrap_or_else(|| "inspected".into()),
        fraud: req.fraud,
        critical_level: req.critical_level.unwrap_or(u8::from(req.fraud)),
        amount_recovered: req.amount_recovered,
        note: req.note,
        // The officer is the authenticated actor, never a name from the request.
        reported_officer: who.actor.id.clone(),
    };
    let store = st.store.clone();
    let actor = who.actor.clone();
    let id = blocking(move || feedback::record(store.as_ref(), &actor, &o, today)).await?;
    Ok((
        StatusCode::CREATED,
        Json(OutcomeRecorded {
            id,
            recorded_by: who.actor.id,
        }),
    ))
}

#[utoipa::path(post, path = "/v1/valuation/check", request_body = DeclarationBody,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn valuation_check(
    State(st): St,
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<DeclarationBody>,
) -> ApiResult<AnyObject> {
    let b = st.benchmarks.clone();
    let out = blocking(move || {
        let b = b.ok_or_else(|| {
            AppError::Unavailable(
                "this server was started without benchmarks (--benchmarks FILE)".into(),
            )
        })?;
        let d = to_declarations(std::slice::from_ref(&req.declaration), "declaration", true)?;
        object(&borderline_app::valuation::check_one(&b, &d[0]))
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/hs/suggest", request_body = SuggestRequest,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn hs_suggest(
    State(st): St,
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<SuggestRequest>,
) -> ApiResult<AnyObject> {
    let k = req.k.unwrap_or(5);
    if !(1..=20).contains(&k) {
        return Err(ApiError::invalid("k", "between 1 and 20"));
    }
    let c = st.classifier.clone();
    let out = blocking(move || {
        let s = borderline_app::hs::suggest(&c, &req.description, k as usize)?;
        object(&serde_json::json!({ "suggestions": s }))
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/hs/check", request_body = HsCheckRequest,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn hs_check(
    State(st): St,
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<HsCheckRequest>,
) -> ApiResult<AnyObject> {
    let c = st.classifier.clone();
    let out = blocking(move || {
        object(&borderline_app::hs::check(
            &c,
            &req.description,
            &req.declared,
            borderline_app::CheckPolicy::default(),
        ))
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/screening/screen", request_body = ScreenRequest,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn screen(
    State(st): St,
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<ScreenRequest>,
) -> ApiResult<AnyObject> {
    let limit = req.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 50"));
    }
    if req.party.name.trim().is_empty() {
        return Err(ApiError::invalid("party.name", "empty"));
    }
    let m = st.matcher.clone();
    let out = blocking(move || {
        let hits = borderline_app::screening::screen_party(&m, &req.party.party(), limit as usize)
            .map_err(|e| AppError::Field {
                field: "party".into(),
                problem: e.to_string(),
            })?;
        object(&serde_json::json!({ "hits": hits }))
    })
    .await?;
    Ok(Json(out))
}

/// The datasets a yente client may name; each holds all the loaded lists. An enum so that the
/// OpenAPI document lists the names; the path stays a string so that any other name gets the
/// API's 404 problem, not the path extractor's plain-text rejection.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Dataset {
    Default,
    Sanctions,
    Borderline,
}

#[utoipa::path(post, path = "/v1/match/{dataset}", request_body = MatchRequestIn,
    params(("dataset" = Dataset, Path, description = "default, sanctions or borderline"), MatchParams),
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn match_dataset(
    State(st): St,
    Extension(_who): Extension<Principal>,
    Path(dataset): Path<String>,
    ApiQuery(params): ApiQuery<MatchParams>,
    ApiJson(req): ApiJson<MatchRequestIn>,
) -> ApiResult<AnyObject> {
    if serde_json::from_value::<Dataset>(serde_json::Value::String(dataset.clone())).is_err() {
        return Err(ApiError::not_found(format!(
            "no dataset {dataset:?} (default, sanctions, borderline)"
        )));
    }
    let limit = params.limit.unwrap_or(5);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 50"));
    }
    let limit = limit as usize;
    let m = st.matcher.clone();
    let req = yente::MatchRequest {
        queries: req
            .queries
            .into_iter()
            .map(|(k, q)| {
                let q = yente::EntityQuery {
                    schema: q.schema,
                    properties: q.properties,
                };
                (k, q)
            })
            .collect(),
    };
    let out = blocking(move || object(&yente::match_entities(&m, &req, limit)?)).await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/self-check", request_body = SelfCheckRequest,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn self_check(
    State(st): St,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<SelfCheckRequest>,
) -> ApiResult<AnyObject> {
    let (c, m, b) = (
        st.classifier.clone(),
        st.matcher.clone(),
        st.benchmarks.clone(),
    );
    let out = blocking(move || {
        let d = to_declarations(std::slice::from_ref(&req.declaration), "declaration", true)?;
        let parties: Vec<Party> = req.counterparties.iter().map(PartyIn::party).collect();
        let tools = selfcheck::SelfCheckTools {
            classifier: &c,
            matcher: &m,
            benchmarks: b.as_deref(),
            reference_date: chrono::Utc::now().date_naive(),
        };
        object(&selfcheck::self_check(&who, &d[0], &parties, &tools)?)
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/v1/models", responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn models_list(State(st): St, Extension(_who): Extension<Principal>) -> ApiResult<AnyObject> {
    let store = st.store.clone();
    let out =
        blocking(move || object(&serde_json::json!({ "models": models::list(store.as_ref())? })))
            .await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/v1/models/{version}", params(("version" = String, Path)),
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn model_card(
    State(st): St,
    Extension(_who): Extension<Principal>,
    Path(version): Path<String>,
) -> ApiResult<AnyObject> {
    let store = st.store.clone();
    let out = blocking(move || match models::card(store.as_ref(), &version) {
        Err(AppError::Invalid(msg)) => Err(AppError::Registry(
            borderline_governance::registry::RegistryError::UnknownModel(msg),
        )),
        r => object(&r?),
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/models", request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the artefact file `train` wrote"),
    responses((status = 201, body = AnyObject)), security(("bearer" = [])))]
async fn model_register(
    State(st): St,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<AnyObject>), ApiError> {
    let store = st.store.clone();
    let out = blocking(move || {
        let req = models::RegisterRequest {
            artefact: body.to_vec(),
            trainer: None,
            evaluation: None,
            intended_use: models::DEFAULT_INTENDED_USE.into(),
            limits: models::DEFAULT_LIMITS.into(),
        };
        object(&models::register(store.as_ref(), &who.actor, &req)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(post, path = "/v1/models/{version}/approve", params(("version" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn model_approve(
    State(st): St,
    Extension(who): Extension<Principal>,
    Path(version): Path<String>,
    ApiJson(req): ApiJson<ReasonBody>,
) -> ApiResult<AnyObject> {
    let store = st.store.clone();
    let out = blocking(move || {
        object(&models::approve(
            store.as_ref(),
            &who.actor,
            &version,
            &req.reason,
        )?)
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/models/{version}/activate", params(("version" = String, Path)),
    responses((status = 200, body = ActivationOut)), security(("bearer" = [])))]
async fn model_activate(
    State(st): St,
    Extension(who): Extension<Principal>,
    Path(version): Path<String>,
) -> ApiResult<ActivationOut> {
    let state = st.clone();
    let out = blocking(move || {
        let replaced = models::activate(state.store.as_ref(), &who.actor, &version)?;
        // New requests score with the new model; requests in flight keep theirs.
        state.reload_active()?;
        Ok(ActivationOut {
            active: version,
            replaced,
        })
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/models/{version}/retire", params(("version" = String, Path)), request_body = ReasonBody,
    responses((status = 204)), security(("bearer" = [])))]
async fn model_retire(
    State(st): St,
    Extension(who): Extension<Principal>,
    Path(version): Path<String>,
    ApiJson(req): ApiJson<ReasonBody>,
) -> Result<StatusCode, ApiError> {
    let state = st.clone();
    blocking(move || {
        models::retire(state.store.as_ref(), &who.actor, &version, &req.reason)?;
        state.reload_active()
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/models/rollback", request_body = ReasonBody,
    responses((status = 200, body = RollbackOut)), security(("bearer" = [])))]
async fn model_rollback(
    State(st): St,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<ReasonBody>,
) -> ApiResult<RollbackOut> {
    let state = st.clone();
    let out = blocking(move || {
        let (retired, reactivated) =
            models::rollback(state.store.as_ref(), &who.actor, &req.reason)?;
        state.reload_active()?;
        Ok(RollbackOut {
            retired,
            reactivated,
        })
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/v1/audit/verify", responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn audit_verify(
    State(st): St,
    Extension(_who): Extension<Principal>,
) -> ApiResult<AnyObject> {
    let (store, witness) = (st.store.clone(), st.witness.clone());
    let out =
        blocking(move || object(&audit::verify_with(store.as_ref(), witness.as_ref())?)).await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/v1/audit/export", responses((status = 200, body = String, content_type = "application/x-ndjson")), security(("bearer" = [])))]
async fn audit_export(
    State(st): St,
    Extension(_who): Extension<Principal>,
) -> Result<Response, ApiError> {
    let store = st.store.clone();
    let bytes = blocking(move || {
        let mut out = Vec::new();
        audit::export(store.as_ref(), &mut out)?;
        Ok(out)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], bytes).into_response())
}

/// The largest integer every JSON client represents exactly (2^53 - 1).
const MAX_SEED: u64 = 9_007_199_254_740_991;

fn percent(name: &str, v: Option<f64>, default: f64) -> Result<f64, ApiError> {
    match v {
        None => Ok(default),
        Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
        Some(_) => Err(ApiError::invalid(name, "a percentage between 0 and 100")),
    }
}

#[utoipa::path(post, path = "/v1/lanes/select", request_body = SelectIn,
    responses((status = 200, body = SelectOut)), security(("bearer" = [])))]
async fn lanes_select(
    State(st): St,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<SelectIn>,
) -> ApiResult<SelectOut> {
    if req.declarations.is_empty() || req.declarations.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "declarations",
            format!("1 to {MAX_BATCH} declarations"),
        ));
    }
    let d = borderline_governance::selectivity::Policy::default();
    let policy = borderline_governance::selectivity::Policy {
        red: percent("red_percent", req.red_percent, d.red)?,
        yellow: percent("yellow_percent", req.yellow_percent, d.yellow)?,
        blue: percent("blue_percent", req.blue_percent, d.blue)?,
        random: percent("random_percent", req.random_percent, d.random)?,
        explore: percent("explore_percent", req.explore_percent, d.explore)?,
        seed: match req.seed {
            Some(x) if x > MAX_SEED => {
                return Err(ApiError::invalid("seed", format!("0 to {MAX_SEED}")))
            }
            x => x.unwrap_or(d.seed),
        },
    };
    let (store, parties) = (st.store.clone(), st.parties.clone());
    let out = blocking(move || {
        let reasons = reasons_of(req.reasons, req.top_reasons)?;
        let rows = to_declarations(&req.declarations, "declarations", false)?;
        let screening = parties.map(|p| p.screen_batch(&rows));
        let subject = req
            .subject
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("API batch of {} declarations", rows.len()));
        select::select_active(
            store.as_ref(),
            &who.actor,
            &select::SelectRequest {
                declarations: &rows,
                subject: &subject,
                rules: select::Rules::Active,
                policy,
                valuation: None,
                screening: screening
                    .as_ref()
                    .map(|s| &s.signal as &dyn borderline_core::Signal),
                reasons,
                as_of: chrono::Utc::now().date_naive(),
            },
        )
    })
    .await?;
    Ok(Json(SelectOut {
        model_version: out.model_version,
        rules_version: out.rules_version,
        rules: out.rules as u64,
        lanes: out
            .lanes
            .iter()
            .map(|(k, v)| (k.to_string(), *v as u64))
            .collect(),
        decisions: out
            .decisions
            .into_iter()
            .map(|d| LaneDecisionOut {
                lane: lane_name(&d.lane),
                basis: lane_name(&d.basis),
                reasons: reasons_out(&d.reasons),
                declaration_id: d.declaration_id,
                score: d.score,
                score_rank: d.score_rank as u64,
                rule_id: d.rule_id,
                why: d.why,
            })
            .collect(),
        audit_records: out.audit_records,
    }))
}

#[utoipa::path(post, path = "/v1/monitoring", request_body = MonitorIn,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn monitoring(
    State(st): St,
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<MonitorIn>,
) -> ApiResult<AnyObject> {
    for (name, rows) in [("reference", &req.reference), ("recent", &req.recent)] {
        if rows.len() > MAX_BATCH {
            return Err(ApiError::invalid(
                name,
                format!("at most {MAX_BATCH} declarations"),
            ));
        }
    }
    let store = st.store.clone();
    let out = blocking(move || {
        let reference = if req.reference.is_empty() {
            Vec::new()
        } else {
            to_declarations(&req.reference, "reference", false)?
        };
        let recent = if req.recent.is_empty() {
            Vec::new()
        } else {
            to_declarations(&req.recent, "recent", false)?
        };
        object(&app_monitor::monitor(
            store.as_ref(),
            app_monitor::Monitored::Active,
            &reference,
            &recent,
        )?)
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/v1/monitoring/hit-rates",
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn hit_rates(State(st): St, Extension(_who): Extension<Principal>) -> ApiResult<AnyObject> {
    let store = st.store.clone();
    let out = blocking(move || {
        object(&serde_json::json!({ "hit_rates": app_monitor::hit_rates(store.as_ref())? }))
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/network/exposure", request_body = ExposureIn,
    responses((status = 200, body = AnyObject)), security(("bearer" = [])))]
async fn network_exposure(
    State(st): St,
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<ExposureIn>,
) -> ApiResult<AnyObject> {
    if req.related.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "related",
            format!("at most {MAX_BATCH} declarations"),
        ));
    }
    let parties = st.parties.clone();
    let out = blocking(move || {
        let parties = parties.ok_or_else(|| {
            AppError::Unavailable(
                "this server was started without a party directory (--parties FILE)".into(),
            )
        })?;
        let mut rows =
            to_declarations(std::slice::from_ref(&req.declaration), "declaration", true)?;
        if !req.related.is_empty() {
            rows.extend(to_declarations(&req.related, "related", false)?);
        }
        let id = rows[0].declaration_id.to_string();
        let screening = parties.screen_batch(&rows);
        let (x, _) = borderline_app::screening::exposure(&rows, &screening, &id)?;
        object(&x)
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/rules/validate", request_body = RulesIn,
    responses((status = 200, body = RulesValidated)), security(("bearer" = [])))]
async fn rules_validate(
    Extension(_who): Extension<Principal>,
    ApiJson(req): ApiJson<RulesIn>,
) -> ApiResult<RulesValidated> {
    let source = req.source;
    let v = blocking(move || app_rules::validate(&source)).await?;
    Ok(Json(RulesValidated {
        version: v.version,
        rules: v.rules,
    }))
}

#[utoipa::path(post, path = "/v1/rules", request_body = RulesIn,
    responses((status = 201, body = RuleSetOut)), security(("bearer" = [])))]
async fn rules_upload(
    State(st): St,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<RulesIn>,
) -> Result<(StatusCode, Json<RuleSetOut>), ApiError> {
    let store = st.store.clone();
    let source = req.source;
    let e = blocking(move || app_rules::upload(store.as_ref(), &who.actor, &source)).await?;
    Ok((StatusCode::CREATED, Json(RuleSetOut::of(e, false))))
}

#[utoipa::path(get, path = "/v1/rules", responses((status = 200, body = RuleSetList)), security(("bearer" = [])))]
async fn rules_list(
    State(st): St,
    Extension(_who): Extension<Principal>,
) -> ApiResult<RuleSetList> {
    let store = st.store.clone();
    let all = blocking(move || app_rules::list(store.as_ref())).await?;
    Ok(Json(RuleSetList {
        rule_sets: all.into_iter().map(|e| RuleSetOut::of(e, false)).collect(),
    }))
}

#[utoipa::path(get, path = "/v1/rules/{version}", params(("version" = String, Path)),
    responses((status = 200, body = RuleSetOut)), security(("bearer" = [])))]
async fn rules_get(
    State(st): St,
    Extension(_who): Extension<Principal>,
    Path(version): Path<String>,
) -> ApiResult<RuleSetOut> {
    let store = st.store.clone();
    let e = blocking(move || app_rules::get(store.as_ref(), &version)).await?;
    Ok(Json(RuleSetOut::of(e, true)))
}

#[utoipa::path(post, path = "/v1/rules/{version}/approve", params(("version" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = RuleSetOut)), security(("bearer" = [])))]
async fn rules_approve(
    State(st): St,
    Extension(who): Extension<Principal>,
    Path(version): Path<String>,
    ApiJson(req): ApiJson<ReasonBody>,
) -> ApiResult<RuleSetOut> {
    let store = st.store.clone();
    let e = blocking(move || app_rules::approve(store.as_ref(), &who.actor, &version, &req.reason))
        .await?;
    Ok(Json(RuleSetOut::of(e, false)))
}

#[utoipa::path(post, path = "/v1/rules/{version}/activate", params(("version" = String, Path)),
    responses((status = 200, body = ActivationOut)), security(("bearer" = [])))]
async fn rules_activate(
    State(st): St,
    Extension(who): Extension<Principal>,
    Path(version): Path<String>,
) -> ApiResult<ActivationOut> {
    let store = st.store.clone();
    let out = blocking(move || {
        let replaced = app_rules::activate(store.as_ref(), &who.actor, &version)?;
        Ok(ActivationOut {
            active: version,
            replaced,
        })
    })
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/v1/rules/{version}/retire", params(("version" = String, Path)), request_body = ReasonBody,
    responses((status = 204)), security(("bearer" = [])))]
async fn rules_retire(
    State(st): St,
    Extension(who): Extension<Principal>,
    Path(version): Path<String>,
    ApiJson(req): ApiJson<ReasonBody>,
) -> Result<StatusCode, ApiError> {
    let store = st.store.clone();
    blocking(move || app_rules::retire(store.as_ref(), &who.actor, &version, &req.reason)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not take this method; see /openapi.json",
    )
}

// ------------------------------------------------------------------------------ router, doc

/// Authenticates and authorizes before anything else of the request is read (so a request
/// without a valid token is a 401 whatever its body), and hands the principal to the handler.
type GuardState = (Arc<AppState>, Permission);
type GuardFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;
type GuardFn = fn(State<GuardState>, axum::extract::Request, axum::middleware::Next) -> GuardFuture;
type GuardLayer =
    axum::middleware::FromFnLayer<GuardFn, GuardState, (State<GuardState>, axum::extract::Request)>;

fn guard(state: &Arc<AppState>, permission: Permission) -> GuardLayer {
    axum::middleware::from_fn_with_state((state.clone(), permission), guard_fn as GuardFn)
}

fn guard_fn(
    State((st, permission)): State<GuardState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> GuardFuture {
    Box::pin(async move {
        match st.authorize(req.headers(), permission) {
            Ok(who) => {
                req.extensions_mut().insert(who);
                next.run(req).await
            }
            Err(e) => e.into_response(),
        }
    })
}

/// Every endpoint with its method (used by the OpenAPI document and the tests).
pub fn router(state: Arc<AppState>) -> Router {
    let artefact_limit = state.config.max_artefact_bytes;
    let body_limit = state.config.max_body_bytes;
    let v1 = Router::new()
        .route(
            "/v1/declarations/score",
            post(score).route_layer(guard(&state, Permission::ScoreDeclarations)),
        )
        .route(
            "/v1/declarations/publish",
            post(publish).route_layer(guard(&state, Permission::ScoreDeclarations)),
        )
        .route(
            "/v1/declarations/rank",
            post(rank).route_layer(guard(&state, Permission::ScoreDeclarations)),
        )
        .route(
            "/v1/decisions/{id}",
            get(decision).route_layer(guard(&state, Permission::ReadDecisions)),
        )
        .route(
            "/v1/decisions/{id}/explanation",
            get(decision_explanation).route_layer(guard(&state, Permission::ReadDecisions)),
        )
        .route(
            "/v1/outcomes",
            post(outcome).route_layer(guard(&state, Permission::RecordOutcomes)),
        )
        .route(
            "/v1/valuation/check",
            post(valuation_check).route_layer(guard(&state, Permission::CheckValuation)),
        )
        .route(
            "/v1/hs/suggest",
            post(hs_suggest).route_layer(guard(&state, Permission::ClassifyGoods)),
        )
        .route(
            "/v1/hs/check",
            post(hs_check).route_layer(guard(&state, Permission::ClassifyGoods)),
        )
        .route(
            "/v1/screening/screen",
            post(screen).route_layer(guard(&state, Permission::Screen)),
        )
        .route(
            "/v1/match/{dataset}",
            post(match_dataset).route_layer(guard(&state, Permission::Screen)),
        )
        .route(
            "/v1/self-check",
            post(self_check).route_layer(guard(&state, Permission::TraderSelfCheck)),
        )
        .route(
            "/v1/models",
            get(models_list).route_layer(guard(&state, Permission::ReadModelCards)),
        )
        .route(
            "/v1/models/{version}",
            get(model_card).route_layer(guard(&state, Permission::ReadModelCards)),
        )
        .route(
            "/v1/models/{version}/approve",
            post(model_approve).route_layer(guard(&state, Permission::ApproveModels)),
        )
        .route(
            "/v1/models/{version}/activate",
            post(model_activate).route_layer(guard(&state, Permission::ActivateModels)),
        )
        .route(
            "/v1/models/{version}/retire",
            post(model_retire).route_layer(guard(&state, Permission::ActivateModels)),
        )
        .route(
            "/v1/models/rollback",
            post(model_rollback).route_layer(guard(&state, Permission::ActivateModels)),
        )
        .route(
            "/v1/audit/verify",
            get(audit_verify).route_layer(guard(&state, Permission::ReadAudit)),
        )
        .route(
            "/v1/audit/export",
            get(audit_export).route_layer(guard(&state, Permission::ReadAudit)),
        )
        .route(
            "/v1/lanes/select",
            post(lanes_select).route_layer(guard(&state, Permission::SelectLanes)),
        )
        .route(
            "/v1/monitoring",
            post(monitoring).route_layer(guard(&state, Permission::ReadMonitoring)),
        )
        .route(
            "/v1/monitoring/hit-rates",
            get(hit_rates).route_layer(guard(&state, Permission::ReadMonitoring)),
        )
        .route(
            "/v1/network/exposure",
            post(network_exposure).route_layer(guard(&state, Permission::Screen)),
        )
        .route(
            "/v1/rules/validate",
            post(rules_validate).route_layer(guard(&state, Permission::WriteRules)),
        )
        .route(
            "/v1/rules",
            get(rules_list).route_layer(guard(&state, Permission::ReadModelCards)),
        )
        .route(
            "/v1/rules/{version}",
            get(rules_get).route_layer(guard(&state, Permission::ReadModelCards)),
        )
        .route(
            "/v1/rules/{version}/approve",
            post(rules_approve).route_layer(guard(&state, Permission::ApproveRules)),
        )
        .route(
            "/v1/rules/{version}/activate",
            post(rules_activate).route_layer(guard(&state, Permission::ApproveRules)),
        )
        .route(
            "/v1/rules/{version}/retire",
            post(rules_retire).route_layer(guard(&state, Permission::ApproveRules)),
        )
        .layer(DefaultBodyLimit::max(body_limit));
    let upload = Router::new().route(
        "/v1/rules",
        post(rules_upload).route_layer(guard(&state, Permission::WriteRules)),
    );
    let models_upload = Router::new()
        .route(
            "/v1/models",
            post(model_register).route_layer(guard(&state, Permission::RegisterModels)),
        )
        .layer(DefaultBodyLimit::max(artefact_limit));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page))
        .merge(v1)
        .merge(upload.layer(DefaultBodyLimit::max(body_limit)))
        .merge(models_upload)
        .merge(crate::web::router().layer(DefaultBodyLimit::max(body_limit)))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::ops::observe,
        ))
        .with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Borderline", description = "Customs risk targeting: score and rank declarations, record outcomes, govern models, screen parties. Every endpoint under /v1 needs `Authorization: Bearer TOKEN` (see README).\n\nErrors are RFC 9457 problem bodies (`application/problem+json`) naming the invalid field."),
    paths(healthz, metrics, score, rank, publish, decision, decision_explanation, outcome, valuation_check, hs_suggest, hs_check, screen, match_dataset, self_check,
          lanes_select, monitoring, hit_rates, network_exposure,
          rules_validate, rules_upload, rules_list, rules_get, rules_approve, rules_activate, rules_retire,
          models_list, model_card, model_register, model_approve, model_activate, model_retire, model_rollback, audit_verify, audit_export),
    components(schemas(Problem, Dataset)),
    modifiers(&CommonResponses)
)]
struct ApiDoc;

/// Adds the bearer scheme and the problem responses every operation can give.
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
        if let Some(c) = api.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
        let problem = |desc: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(desc)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in api.paths.paths.iter_mut() {
            let authed = path.starts_with("/v1/");
            for op in [item.get.as_mut(), item.post.as_mut()]
                .into_iter()
                .flatten()
            {
                let r = &mut op.responses.responses;
                let mut add = |code: &str, desc: &str| {
                    r.entry(code.to_string()).or_insert_with(|| problem(desc));
                };
                add("500", "server error (never expected)");
                if authed {
                    for (code, desc) in [
                        ("400", "malformed JSON"),
                        ("401", "no valid token"),
                        ("403", "the token's role may not do this"),
                        ("404", "not found"),
                        ("409", "conflicts with the current state"),
                        ("413", "body too large"),
                        ("415", "body is not JSON"),
                        ("422", "invalid input (the field is named)"),
                        ("429", "rate limited"),
                        (
                            "503",
                            "not available (no active model, no benchmarks, or timeout)",
                        ),
                    ] {
                        add(code, desc);
                    }
                }
            }
        }
    }
}

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The request-body parsing of every JSON endpoint, for the fuzz target `api_bodies`: `body`
/// parsed as the request type `kind` selects (score, rank, outcome, declaration, suggest,
/// HS check, screen, self-check, reason, match; `kind` modulo 10), then each declaration
/// through the ingest row validation and each party into its screening query, as the handlers
/// do before any store or model is touched. `Err` is the problem status a client would get.
#[doc(hidden)]
pub fn parse_request_body(kind: u8, body: &[u8]) -> Result<(), u16> {
    use crate::extract::parse;
    let status = |e: ApiError| e.status.as_u16();
    let app = |e: AppError| ApiError::from(e).status.as_u16();
    let parties = |ps: &[PartyIn]| -> Result<(), u16> {
        for p in ps {
            p.party()
                .query(&Party::default())
                .map_err(|e| app(AppError::Invalid(e)))?;
        }
        Ok(())
    };
    match kind % 10 {
        0 => {
            let r: ScoreRequest = parse(body).map_err(status)?;
            to_declarations(std::slice::from_ref(&r.declaration), "declaration", true)
                .map_err(app)?;
        }
        1 => {
            let r: RankRequest = parse(body).map_err(status)?;
            to_declarations(&r.declarations, "declarations", false).map_err(app)?;
        }
        2 => {
            let _: OutcomeIn = parse(body).map_err(status)?;
        }
        3 => {
            let r: DeclarationBody = parse(body).map_err(status)?;
            to_declarations(std::slice::from_ref(&r.declaration), "declaration", true)
                .map_err(app)?;
        }
        4 => {
            let _: SuggestRequest = parse(body).map_err(status)?;
        }
        5 => {
            let _: HsCheckRequest = parse(body).map_err(status)?;
        }
        6 => {
            let r: ScreenRequest = parse(body).map_err(status)?;
            parties(std::slice::from_ref(&r.party))?;
        }
        7 => {
            let r: SelfCheckRequest = parse(body).map_err(status)?;
            to_declarations(std::slice::from_ref(&r.declaration), "declaration", true)
                .map_err(app)?;
            parties(&r.counterparties)?;
        }
        8 => {
            let _: ReasonBody = parse(body).map_err(status)?;
        }
        _ => {
            let _: MatchRequestIn = parse(body).map_err(status)?;
        }
    }
    Ok(())
}
