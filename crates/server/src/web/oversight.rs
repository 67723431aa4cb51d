//! Oversight pages: monitoring (drift and hit rates), the model card's charts and roll-back,
//! rule sets (upload, validate, approve, activate, replay) and the audit log's filters. Each
//! handler checks the same permission as its API endpoint and calls the same use case.

use super::pages::html_page;
use super::svg::{self, Bar};
use super::{page, SignedIn, WebError};
use crate::problem::ApiError;
use crate::routes::blocking;
use crate::AppState;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use borderline_app::declarations;
use borderline_app::governance::monitor as app_monitor;
use borderline_governance::identity::Permission;
use borderline_governance::monitor::{Drift, HitRate, Psi, PSI_ALERT, PSI_WARN};
use maud::{html, Markup};
use std::collections::BTreeMap;
use std::sync::Arc;

type St = State<Arc<AppState>>;
type PageResult = Result<Response, WebError>;

/// The named parts of a multipart form (text fields and files alike), as bytes.
async fn multipart_fields(mut form: Multipart) -> Result<BTreeMap<String, Vec<u8>>, WebError> {
    let mut out = BTreeMap::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unreadable-body", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), "unreadable-body", e.body_text()))?;
        out.insert(name, bytes.to_vec());
    }
    Ok(out)
}

fn text_field(fields: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    fields
        .get(name)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn drift_words(d: Drift) -> &'static str {
    match d {
        Drift::Stable => "stable",
        Drift::Warn => "moderate shift",
        Drift::Alert => "major shift",
    }
}

// ---------------------------------------------------------------- monitoring

/// The monitoring page: hit rates recorded in the store (as `GET /v1/monitoring/hit-rates`),
/// and a form for a reference and a recent file whose drift is computed as `POST
/// /v1/monitoring` computes it.
pub async fn monitoring(State(st): St, s: SignedIn) -> PageResult {
    s.require(Permission::ReadMonitoring)?;
    let store = st.store.clone();
    let rates = blocking(move || app_monitor::hit_rates(store.as_ref())).await?;
    Ok(html_page(page(
        &s,
        "Monitoring",
        monitoring_body(&s, &rates, None, &[]),
    )))
}

pub async fn monitoring_run(State(st): St, s: SignedIn, form: Multipart) -> PageResult {
    let fields = multipart_fields(form).await?;
    s.check_csrf(&text_field(&fields, "csrf"))?;
    s.require(Permission::ReadMonitoring)?;
    let store = st.store.clone();
    let (reference, recent) = (
        fields.get("reference").cloned().unwrap_or_default(),
        fields.get("recent").cloned().unwrap_or_default(),
    );
    let (report, refused) = blocking(move || {
        let mut refused = Vec::new();
        let mut read = |name: &'static str, bytes: &[u8]| {
            if bytes.is_empty() {
                return Err(borderline_app::AppError::Field {
                    field: name.into(),
                    problem: format!("no {name} file: choose a CSV file of declarations"),
                });
            }
            let (rows, bad) = declarations::from_csv_bytes(bytes)?;
            refused.extend(bad.into_iter().map(|r| (name, r)));
            Ok(rows)
        };
        let reference = read("reference", &reference)?;
        let recent = read("recent", &recent)?;
        let report = app_monitor::monitor(
            store.as_ref(),
            app_monitor::Monitored::Active,
            &reference,
            &recent,
        )?;
        Ok((report, refused))
    })
    .await?;
    let refused: Vec<String> = refused
        .iter()
        .map(|(file, r)| format!("{file} file, line {}, {}: {}", r.line, r.field, r.reason))
        .collect();
    Ok(html_page(page(
        &s,
        "Monitoring",
        monitoring_body(&s, &report.hit_rates, Some(&report), &refused),
    )))
}

fn monitoring_body(
    s: &SignedIn,
    rates: &[HitRate],
    report: Option<&app_monitor::MonitorReport>,
    refused: &[String],
) -> Markup {
    html! {
        h1 { "Monitoring" }
        section.card aria-labelledby="drift-h" {
            h2 #drift-h { "Drift of the score and the features" }
            p { "Choose a reference file (e.g. the training period) and a recent window, both CSV in the generic layout; the active model scores both and the population stability index (PSI) compares them. Below "
                (PSI_WARN) " is stable, up to " (PSI_ALERT) " a moderate shift, above that a major shift." }
            form method="post" action="/app/monitoring" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(s.session.csrf);
                p { label { "Reference declarations (CSV) " input type="file" name="reference" accept=".csv,text/csv" required; } }
                p { label { "Recent declarations (CSV) " input type="file" name="recent" accept=".csv,text/csv" required; } }
                button type="submit" { "Compare" }
            }
            @for r in refused { p.refusal { (r) } }
            @if let Some(r) = report { (drift_report(r)) }
        }
        (hit_rate_section(rates))
    }
}

fn drift_report(r: &app_monitor::MonitorReport) -> Markup {
    html! {
        p #drift-summary { "Model " (r.model_version) ": " (r.reference_declarations) " reference and "
            (r.recent_declarations) " recent declarations." }
        @if let Some(end) = r.reference_in_training_until {
            p.muted { "The reference starts on or before " (end) ", the last day the model learned from: the history features are in-sample there and their PSI overstates drift." }
        }
        @match &r.score {
            None => p { "One of the periods is empty: no score distribution to compare." }
            Some(p) => {
                h3 { "Score distribution" }
                p #score-psi { "PSI of the score " strong { (format!("{:.3}", p.value)) } ": " (drift_words(p.drift)) "." }
                div.chart-wrap { (score_columns(p)) }
            }
        }
        @if !r.features.is_empty() {
            h3 { "PSI per feature (largest first)" }
            @let items: Vec<Bar<'_>> = r.features.iter().take(20).map(|f| Bar {
                label: f.name.as_str(), value: f.psi, highlight: f.drift != Drift::Stable }).collect();
            div.chart-wrap { (svg::bars("Population stability index of each feature, recent against reference",
                &items, PSI_ALERT * 1.2, &[(PSI_WARN, "warn"), (PSI_ALERT, "alert")], |v| format!("{v:.3}"))) }
            @let drifting: Vec<_> = r.drifting().collect();
            @if drifting.is_empty() { p { "No feature beyond the warning threshold." } }
            @else { ul { @for (name, v, d) in drifting { li { (name) ": PSI " (format!("{v:.3}")) ", " (drift_words(d)) } } } }
        }
    }
}

fn score_columns(p: &Psi) -> Markup {
    let bins: Vec<(String, f64, f64)> = p
        .bins
        .iter()
        .map(|b| {
            let label = if b.lower.is_nan() {
                "missing".to_string()
            } else if b.lower.is_finite() {
                format!("≥{:.0}%", b.lower * 100.0)
            } else {
                "lowest".to_string()
            };
            (label, b.reference_share, b.recent_share)
        })
        .collect();
    svg::paired_columns(
        "Share of declarations in each score bin: reference period and recent window",
        &bins,
        ("reference", "recent"),
    )
}

fn hit_rate_section(rates: &[HitRate]) -> Markup {
    let overall: Vec<&HitRate> = rates.iter().filter(|r| r.week == "all").collect();
    let weekly: Vec<&HitRate> = rates
        .iter()
        .filter(|r| r.group == "all" && r.week != "all")
        .collect();
    let labels: Vec<String> = overall
        .iter()
        .map(|r| format!("{} ({} of {})", r.group, r.frauds, r.inspected))
        .collect();
    let week_labels: Vec<String> = weekly
        .iter()
        .map(|r| format!("{} ({} of {})", r.week, r.frauds, r.inspected))
        .collect();
    html! {
        section.card #hit-rates aria-labelledby="hits-h" {
            h2 #hits-h { "Hit rates of inspections" }
            @if rates.is_empty() {
                p { "No inspection outcome is recorded yet." }
            } @else {
                h3 { "By lane, selection basis and rule (all weeks)" }
                @let items: Vec<Bar<'_>> = overall.iter().zip(&labels).map(|(r, l)| Bar {
                    label: l.as_str(), value: r.rate, highlight: r.group == "all" }).collect();
                div.chart-wrap { (svg::bars("Share of inspected declarations found fraudulent, by group", &items, 0.0, &[], |v| format!("{:.0}%", v * 100.0))) }
                h3 { "All inspections by week" }
                @let items: Vec<Bar<'_>> = weekly.iter().zip(&week_labels).map(|(r, l)| Bar {
                    label: l.as_str(), value: r.rate, highlight: false }).collect();
                div.chart-wrap { (svg::bars("Share of inspected declarations found fraudulent, by ISO week", &items, 0.0, &[], |v| format!("{:.0}%", v * 100.0))) }
                table { thead { tr { th { "Group" } th { "Week" } th { "Inspected" } th { "Fraud found" } th { "Hit rate" } } }
                    tbody { @for r in rates { tr { td { (r.group) } td { (r.week) } td { (r.inspected) } td { (r.frauds) } td { (format!("{:.1}%", r.rate * 100.0)) } } } } }
            }
        }
    }
}

// ---------------------------------------------------------------- model card charts

/// A model card's charts: precision at each inspection capacity (validation metrics), and,
/// when the model has recorded decisions, their score distribution and the calibration table
/// (mean score against observed fraud rate of the inspected ones, per score band).
pub fn model_charts(
    m: &borderline_governance::registry::ModelEntry,
    used: Option<&borderline_app::governance::models::InUse>,
) -> Markup {
    let id = m
        .model
        .version
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    // Capacities are the map's keys ("1", "10", "2", "5"): shown in numeric order.
    let mut at: Vec<(f64, String, f64)> = m
        .model
        .metrics
        .get("precision_at")
        .and_then(|v| v.as_object())
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| {
                    Some((k.parse::<f64>().ok()?, format!("top {k}%"), v.as_f64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    at.sort_by(|a, b| a.0.total_cmp(&b.0));
    let precision: Vec<(String, f64)> = at.into_iter().map(|(_, l, v)| (l, v)).collect();
    html! {
        @if !precision.is_empty() {
            h3 { "Precision at inspection capacity (validation period)" }
            @let items: Vec<Bar<'_>> = precision.iter().map(|(l, v)| Bar { label: l.as_str(), value: *v, highlight: false }).collect();
            div.chart-wrap { (svg::bars(&format!("Share of fraud among the declarations ranked highest by model {}", m.model.version),
                &items, 0.0, &[], |v| format!("{:.0}%", v * 100.0))) }
        }
        @match used {
            None => p.muted { "No decision recorded with this model yet: no score distribution or calibration table." }
            Some(u) => {
                @let bands: Vec<_> = u.bands.iter().filter(|b| b.decisions > 0).collect();
                @let labels: Vec<String> = bands.iter().map(|b| format!("{:.0}-{:.0}%", b.lower * 100.0, b.upper * 100.0)).collect();
                h3 id={"dist-" (id)} { "Score distribution of its " (u.decisions) " recorded decisions" }
                @let items: Vec<Bar<'_>> = bands.iter().zip(&labels).map(|(b, l)| Bar { label: l.as_str(), value: b.decisions as f64, highlight: false }).collect();
                div.chart-wrap { (svg::bars(&format!("Recorded decisions of model {} per score band", m.model.version), &items, 0.0, &[], |v| format!("{v:.0}"))) }
                h3 { "Calibration: predicted against observed (" (u.inspected) " with a recorded outcome)" }
                @if u.inspected == 0 {
                    p { "No outcome is recorded for its decisions yet." }
                } @else {
                    table.calibration {
                        thead { tr { th { "Score band" } th { "Decisions" } th { "Inspected" } th { "Mean predicted" } th { "Observed fraud rate" } } }
                        tbody { @for (b, l) in bands.iter().zip(&labels) { tr {
                            td { (l) } td { (b.decisions) } td { (b.inspected) }
                            td { (b.mean_score.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_default()) }
                            td { (b.fraud_rate().map(|v| format!("{:.1}% ({} of {})", v * 100.0, b.frauds, b.inspected)).unwrap_or_default()) }
                        } } }
                    }
                    p.muted { "Inspected declarations are chosen mostly by score: the observed rate is unbiased only for the random lane." }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- rules

use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use borderline_app::governance::rules as app_rules;
use serde::Deserialize;

/// What the rule editor shows after a validation or a refused upload.
enum EditorResult {
    Valid(app_rules::Validated),
    /// The application's refusal, with the line and column of a syntax error.
    Refused(ApiError),
}

pub async fn rules(State(st): St, s: SignedIn) -> PageResult {
    s.require(Permission::ReadModelCards)?;
    rules_page(&st, &s, "", None, StatusCode::OK).await
}

async fn rules_page(
    st: &AppState,
    s: &SignedIn,
    source: &str,
    result: Option<EditorResult>,
    status: StatusCode,
) -> PageResult {
    let store = st.store.clone();
    let sets = blocking(move || app_rules::list(store.as_ref())).await?;
    let may_write = s.who.may(Permission::WriteRules);
    let may_approve = s.who.may(Permission::ApproveRules);
    let body = html! {
        h1 { "Analyst rules" }
        @if may_write {
            section.card #editor aria-labelledby="editor-h" {
                h2 #editor-h { "Write a rule set" }
                p { "One rule per block: " code { "rule \"id\" priority N when CONDITION then lane red|yellow|blue|green reason \"…\"" } ". Validate checks it and stores nothing; upload stores it as a draft that another person approves." }
                form method="post" action="/app/rules/validate" {
                    input type="hidden" name="csrf" value=(s.session.csrf);
                    p { label { "Rule file" br; textarea name="source" rows="10" cols="90" spellcheck="false" { (source) } } }
                    button type="submit" { "Validate" } " "
                    button type="submit" formaction="/app/rules" { "Upload as draft" }
                }
                @match &result {
                    None => {}
                    Some(EditorResult::Valid(v)) => div.ok #rules-result role="status" {
                        p { "Valid: " (v.rules.len()) " rules (" (v.rules.join(", ")) "); version " code { (v.version) } "." }
                    }
                    Some(EditorResult::Refused(e)) => div.refusal #rules-result role="alert" {
                        @if let Some((line, column)) = e.at {
                            @let prefix = format!("line {line}, column {column}: ");
                            p { "Line " (line) ", column " (column) ": " (e.detail.strip_prefix(prefix.as_str()).unwrap_or(&e.detail)) }
                            (source_excerpt(source, line as usize, column as usize))
                        } @else {
                            p { (e.detail) }
                        }
                    }
                }
            }
        }
        h2 { "Rule sets" }
        @if sets.is_empty() { p { "No rule set is uploaded; selection uses no analyst rules." } }
        @for e in &sets {
            section.card {
                h3 { code { (e.version) } " " span.muted { "(" (e.state.as_str()) ")" } }
                p { (e.rules) " rules · uploaded by " (e.uploaded_by) " on " (e.uploaded_at)
                    @if let Some(a) = &e.approved_by { " · approved by " (a) @if let Some(r) = &e.approval_reason { ": " (r) } } }
                details { summary { "Source" } pre { (e.source) } }
                @if may_approve && e.state.as_str() == "draft" {
                    form method="post" action={"/app/rules/" (e.version) "/approve"} {
                        input type="hidden" name="csrf" value=(s.session.csrf);
                        label { "Reason for approval " input name="reason" required; }
                        " " button type="submit" { "Approve" }
                    }
                }
                @if may_approve && e.state.as_str() == "approved" {
                    form method="post" action={"/app/rules/" (e.version) "/activate"} {
                        input type="hidden" name="csrf" value=(s.session.csrf);
                        button type="submit" { "Activate" }
                    }
                }
                @if may_write || may_approve {
                    form.filters method="get" action={"/app/rules/" (e.version) "/replay"} {
                        label { "Replay on decisions declared from" input name="from" type="date"; }
                        label { "to" input name="to" type="date"; }
                        button type="submit" { "Replay" }
                    }
                }
            }
        }
    };
    Ok((status, html_page(page(s, "Rules", body))).into_response())
}

/// The lines around a syntax error, numbered, with a caret under the column.
fn source_excerpt(source: &str, line: usize, column: usize) -> Markup {
    let lines: Vec<&str> = source.lines().collect();
    let first = line.saturating_sub(2).max(1);
    let last = (line + 1).min(lines.len());
    html! {
        pre.excerpt aria-label={"Rule file around line " (line)} {
            @for n in first..=last {
                @let text = lines.get(n - 1).copied().unwrap_or("");
                (format!("{n:>4} | {text}\n"))
                @if n == line { strong { (format!("     | {}^\n", " ".repeat(column.saturating_sub(1)))) } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SourceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
}

pub async fn rules_validate(State(st): St, s: SignedIn, Form(f): Form<SourceForm>) -> PageResult {
    s.check_csrf(&f.csrf)?;
    s.require(Permission::WriteRules)?;
    let src = f.source.clone();
    let (result, status) = match blocking(move || app_rules::validate(&src)).await {
        Ok(v) => (EditorResult::Valid(v), StatusCode::OK),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let st = e.status;
            (EditorResult::Refused(e), st)
        }
        Err(e) => return Err(e.into()),
    };
    rules_page(&st, &s, &f.source, Some(result), status).await
}

pub async fn rules_upload(State(st): St, s: SignedIn, Form(f): Form<SourceForm>) -> PageResult {
    s.check_csrf(&f.csrf)?;
    s.require(Permission::WriteRules)?;
    let (store, actor, src) = (st.store.clone(), s.who.actor.clone(), f.source.clone());
    match blocking(move || app_rules::upload(store.as_ref(), &actor, &src)).await {
        Ok(_) => Ok(Redirect::to("/app/rules").into_response()),
        Err(e) if e.status.is_client_error() => {
            let st2 = e.status;
            rules_page(&st, &s, &f.source, Some(EditorResult::Refused(e)), st2).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn rules_approve(
    State(st): St,
    s: SignedIn,
    Path(version): Path<String>,
    Form(f): Form<ReasonForm>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    s.require(Permission::ApproveRules)?;
    let (store, actor) = (st.store.clone(), s.who.actor.clone());
    // Four-eyes is the rulebook's: the author's approval is refused in its words.
    blocking(move || app_rules::approve(store.as_ref(), &actor, &version, &f.reason)).await?;
    Ok(Redirect::to("/app/rules").into_response())
}

pub async fn rules_activate(
    State(st): St,
    s: SignedIn,
    Path(version): Path<String>,
    Form(f): Form<super::pages::CsrfOnly>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    s.require(Permission::ApproveRules)?;
    let (store, actor) = (st.store.clone(), s.who.actor.clone());
    blocking(move || app_rules::activate(store.as_ref(), &actor, &version)).await?;
    Ok(Redirect::to("/app/rules").into_response())
}

#[derive(Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn date(field: &str, v: &str) -> Result<Option<chrono::NaiveDate>, WebError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ApiError::invalid(field, format!("{field}: a date is YYYY-MM-DD")).into())
}

pub async fn rules_replay(
    State(st): St,
    s: SignedIn,
    Path(version): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    s.require(Permission::ReadModelCards)?;
    let (from, to) = (date("from", &q.from)?, date("to", &q.to)?);
    let (store, who) = (st.store.clone(), s.who.clone());
    let r = blocking(move || app_rules::replay(store.as_ref(), &who, &version, from, to)).await?;
    let period = match (r.from, r.to) {
        (None, None) => "all recorded decisions".to_string(),
        (f, t) => format!(
            "declarations dated {} to {}",
            f.map(|d| d.to_string())
                .unwrap_or_else(|| "the first".into()),
            t.map(|d| d.to_string())
                .unwrap_or_else(|| "the last".into())
        ),
    };
    let lanes: Vec<String> = r
        .candidate
        .lanes
        .iter()
        .zip(&r.active.lanes)
        .map(|((l, _), _)| l.as_str().to_string())
        .collect();
    let body = html! {
        h1 { "Replay of " code { (r.candidate.version) } }
        p #replay-summary { (r.declarations) " declarations replayed (" (period) ") with model " (r.model_version)
            " and the default lane capacities, beside the active rule set " code { (r.active.version) } "; nothing was recorded." }
        @if r.without_input > 0 { p.muted { (r.without_input) " decisions of the period were recorded without their input and are not replayed." } }
        @if r.capped { p.muted { "The period has more decisions than a replay reads: the riskiest were replayed." } }
        section.card aria-labelledby="lanes-h" {
            h2 #lanes-h { "Lanes: this rule set against the active one" }
            div.chart-wrap { (svg::paired_columns("Declarations per final lane: active rule set and this rule set",
                &r.active.lanes.iter().zip(&r.candidate.lanes).zip(&lanes)
                    .map(|(((_, a), (_, c)), l)| (l.clone(), share(*a, r.declarations), share(*c, r.declarations))).collect::<Vec<_>>(),
                ("active rules", "this rule set"))) }
            table #replay-lanes { thead { tr { th { "Lane" } th { "Active rules" } th { "This rule set" } } }
                tbody { @for ((l, a), (_, c)) in r.active.lanes.iter().zip(&r.candidate.lanes) {
                    tr { td { (super::pages::lane_badge_pub(*l)) } td { (a) } td { (c) } } } } }
            p { (r.with_outcome) " of the replayed declarations have a recorded outcome, " (r.frauds) " fraud: "
                (r.active.frauds_in_inspection) " in an inspection lane under the active rules, "
                strong { (r.candidate.frauds_in_inspection) } " under this rule set." }
        }
        section.card aria-labelledby="rules-h" {
            h2 #rules-h { "Each rule" }
            table #replay-rules {
                thead { tr { th { "Rule" } th { "Asks for" } th { "Matched" } th { "Decided, by final lane" } } }
                tbody { @for rc in &r.candidate.rules { tr {
                    td { (rc.id) } td { (super::pages::lane_badge_pub(rc.lane)) } td { (rc.hits) }
                    td { @if rc.decided.is_empty() { "none" } @else {
                        @for (i, (lane, n)) in rc.decided.iter().enumerate() { @if i > 0 { ", " } (n) " " (lane) } } }
                } } }
            }
        }
        p { a href="/app/rules" { "Back to the rule sets" } }
    };
    Ok(html_page(page(&s, "Rule replay", body)))
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}
