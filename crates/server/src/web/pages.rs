//! The page handlers: each checks the session's permission, makes one call into
//! `borderline_app` and renders what it returns.

use super::session::{self, clear_cookie, set_cookie};
use super::svg::{self, Step};
use super::{bare_page, page, SignedIn, WebError};
use crate::routes::blocking;
use crate::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use borderline_app::cases::{
    self as case_uc, Closing, Counterfactual, CounterfactualView, Disposition,
};
use borderline_app::decisions::{self, QueueFilter};
use borderline_app::governance::{audit, models};
use borderline_app::{declarations, selfcheck, AppError};
use borderline_core::{Lane, Reason, ReasonKind};
use borderline_governance::actor::same_person;
use borderline_governance::audit::Verification;
use borderline_governance::cases::{CaseRecord, CaseState};
use borderline_governance::identity::{IdentityError, Permission};
use borderline_governance::selectivity::Basis;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

type St = State<Arc<AppState>>;
type PageResult = Result<Response, WebError>;

pub(super) fn lane_word(l: Lane) -> &'static str {
    match l {
        Lane::Red => "red",
        Lane::Yellow => "yellow",
        Lane::Blue => "blue",
        Lane::Green => "green",
    }
}

pub(super) fn lane_badge_pub(l: Lane) -> Markup {
    lane_badge(l)
}

fn lane_badge(l: Lane) -> Markup {
    html! { span class={"lane " (lane_word(l))} { (lane_word(l)) } }
}

pub(super) fn html_page(m: Markup) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        m,
    )
        .into_response()
}

fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn rng_failed(e: session::SessionError) -> WebError {
    tracing::error!(error = %e, "session could not be started");
    WebError::Refused(crate::problem::ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server could not start a session",
    ))
}

// ---------------------------------------------------------------- sign-in, sign-out, home

/// The sign-in form; its CSRF token lives in an anonymous session (so a third-party site cannot
/// sign a browser in as someone else).
pub async fn sign_in_form(State(st): St, headers: HeaderMap) -> PageResult {
    sign_in_page(&st, &headers, None, StatusCode::OK)
}

fn sign_in_page(
    st: &AppState,
    headers: &HeaderMap,
    refusal: Option<&str>,
    status: StatusCode,
) -> PageResult {
    let existing = session::cookie_id(headers).and_then(|id| st.sessions.get(&id).map(|s| (id, s)));
    let (id, s, fresh) = match existing {
        Some((id, s)) if s.principal.is_none() => (id, s, false),
        _ => {
            let (id, s) = st.sessions.start(None).map_err(rng_failed)?;
            (id, s, true)
        }
    };
    let body = bare_page(
        "Sign in",
        html! {
            h1 { "Sign in" }
            @if let Some(r) = refusal { p.refusal role="alert" { (r) } }
            form.card method="post" action="/sign-in" {
                input type="hidden" name="csrf" value=(s.csrf);
                p { label { "Account id" br; input name="account" autocomplete="username" required autofocus; } }
                p { label { "Password" br; input name="password" type="password" autocomplete="current-password" required; } }
                button type="submit" { "Sign in" }
            }
        },
    );
    let r = (status, html_page(body)).into_response();
    Ok(if fresh {
        with_cookie(r, set_cookie(&id, st.config.secure_cookies))
    } else {
        r
    })
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    account: String,
    password: String,
}

pub async fn sign_in(State(st): St, headers: HeaderMap, Form(f): Form<SignInForm>) -> PageResult {
    let pre = session::cookie_id(&headers).and_then(|id| st.sessions.get(&id).map(|s| (id, s)));
    let Some((pre_id, pre)) = pre.filter(|(_, s)| session::same_token(&s.csrf, &f.csrf)) else {
        return Err(WebError::Csrf);
    };
    let store = st.store.clone();
    let (account, password) = (f.account, f.password);
    let who = blocking(move || {
        borderline_app::identity::authenticate_password(store.as_ref(), &account, &password)
    })
    .await;
    let who = match who {
        Ok(w) => w,
        Err(e) if e.status == StatusCode::UNAUTHORIZED || e.status == StatusCode::FORBIDDEN => {
            // One answer for an unknown account, a wrong password or a disabled account.
            return sign_in_page(
                &st,
                &headers,
                Some("That account id and password do not match an active account."),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return Err(e.into()),
    };
    let _ = pre;
    // A new session id at sign-in: an id planted before sign-in is worth nothing after it.
    st.sessions.end(&pre_id);
    let (id, _) = st.sessions.start(Some(who)).map_err(rng_failed)?;
    let r = Redirect::to("/app").into_response();
    Ok(with_cookie(r, set_cookie(&id, st.config.secure_cookies)))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub(super) csrf: String,
}

pub async fn sign_out(State(st): St, s: SignedIn, Form(f): Form<CsrfOnly>) -> PageResult {
    s.check_csrf(&f.csrf)?;
    st.sessions.end(&s.id);
    let r = Redirect::to("/sign-in").into_response();
    Ok(with_cookie(r, clear_cookie(st.config.secure_cookies)))
}

pub async fn home(s: SignedIn) -> PageResult {
    let entries = super::nav(&s.who);
    Ok(html_page(page(
        &s,
        "Start",
        html! {
            h1 { "Welcome, " (s.who.actor.display_name) }
            @if entries.is_empty() {
                p { "Your roles give you no page in this application yet." }
            } @else {
                ul { @for (href, label) in entries { li { a href=(href) { (label) } } } }
            }
        },
    )))
}

// ---------------------------------------------------------------- inspection queue

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    lane: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    hs: String,
    #[serde(default)]
    importer: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    case: String,
    #[serde(default)]
    page: Option<usize>,
}

const BASES: [(&str, &str); 5] = [
    ("score", "risk model score"),
    ("rule", "analyst rule"),
    ("random", "random selection"),
    ("exploration", "exploration"),
    ("release", "release"),
];

const CASE_STATES: [CaseState; 4] = [
    CaseState::Pending,
    CaseState::InInspection,
    CaseState::Escalated,
    CaseState::OutcomeRecorded,
];

fn basis_field(s: &str) -> Result<Option<Basis>, WebError> {
    match some(s) {
        None => Ok(None),
        Some(v) => serde_json::from_value(serde_json::Value::String(v))
            .map(Some)
            .map_err(|_| {
                crate::problem::ApiError::invalid(
                    "basis",
                    "basis: score, rule, random, exploration or release",
                )
                .into()
            }),
    }
}

fn case_field(s: &str) -> Result<Option<CaseState>, WebError> {
    match some(s) {
        None => Ok(None),
        Some(v) => CaseState::parse(&v).map(Some).ok_or_else(|| {
            crate::problem::ApiError::invalid(
                "case",
                "case: pending, in_inspection, escalated or outcome_recorded",
            )
            .into()
        }),
    }
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

fn date_field(field: &str, s: &str) -> Result<Option<chrono::NaiveDate>, WebError> {
    match some(s) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                crate::problem::ApiError::invalid(field, format!("{field}: a date is YYYY-MM-DD"))
                    .into()
            }),
    }
}

const PER_PAGE: usize = 50;

pub async fn queue(State(st): St, s: SignedIn, Query(q): Query<QueueQuery>) -> PageResult {
    s.require(Permission::ReadDecisions)?;
    let lane = match q.lane.as_str() {
        "" => None,
        "red" => Some(Lane::Red),
        "yellow" => Some(Lane::Yellow),
        "blue" => Some(Lane::Blue),
        "green" => Some(Lane::Green),
        _ => {
            return Err(crate::problem::ApiError::invalid(
                "lane",
                "lane: red, yellow, blue or green",
            )
            .into())
        }
    };
    let filter = QueueFilter {
        lane,
        office: some(&q.office),
        hs_code_prefix: some(&q.hs),
        importer: some(&q.importer),
        from: date_field("from", &q.from)?,
        to: date_field("to", &q.to)?,
        basis: basis_field(&q.basis)?,
        rule: some(&q.rule),
        case_state: case_field(&q.case)?,
    };
    let page_no = q.page.unwrap_or(1).max(1);
    let store = st.store.clone();
    let f2 = filter.clone();
    let found = blocking(move || decisions::queue(store.as_ref(), &f2, page_no, PER_PAGE)).await?;
    let pages = found.total.div_ceil(PER_PAGE).max(1);
    let link = |p: usize| {
        let pairs = [
            ("lane", q.lane.as_str()),
            ("office", q.office.as_str()),
            ("hs", q.hs.as_str()),
            ("importer", q.importer.as_str()),
            ("from", q.from.as_str()),
            ("to", q.to.as_str()),
            ("basis", q.basis.as_str()),
            ("rule", q.rule.as_str()),
            ("case", q.case.as_str()),
        ];
        let mut out = String::from("/app/queue?");
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            out.push_str(&format!("{k}={}&", encode(v)));
        }
        out.push_str(&format!("page={p}"));
        out
    };
    Ok(html_page(page(
        &s,
        "Inspection queue",
        html! {
            h1 { "Inspection queue" }
            form.filters method="get" action="/app/queue" role="search" {
                label { "Lane"
                    select name="lane" {
                        @for (v, t) in [("", "all"), ("red", "red"), ("yellow", "yellow"), ("blue", "blue"), ("green", "green")] {
                            option value=(v) selected[q.lane == v] { (t) }
                        }
                    }
                }
                label { "Office" input name="office" value=(q.office); }
                label { "HS code starts with" input name="hs" value=(q.hs) inputmode="numeric"; }
                label { "Importer" input name="importer" value=(q.importer); }
                label { "Declared from" input name="from" type="date" value=(q.from); }
                label { "to" input name="to" type="date" value=(q.to); }
                label { "Selected by"
                    select name="basis" {
                        option value="" selected[q.basis.is_empty()] { "any basis" }
                        @for (v, t) in BASES { option value=(v) selected[q.basis == v] { (t) } }
                    }
                }
                label { "Hit by rule" input name="rule" value=(q.rule) placeholder="rule id"; }
                label { "Case"
                    select name="case" {
                        option value="" selected[q.case.is_empty()] { "any" }
                        @for c in CASE_STATES { option value=(c.as_str()) selected[q.case == c.as_str()] { (c.words()) } }
                    }
                }
                button type="submit" { "Filter" }
            }
            p.muted { (found.total) " declarations match · page " (found.page) " of " (pages) }
            table {
                thead { tr { th { "Declaration" } th { "Lane" } th { "Risk" } th { "Importer" } th { "HS" } th { "Office" } th { "Date" } th { "Case" } th { "Why" } } }
                tbody {
                    @for r in &found.rows {
                        @let d = &r.decision;
                        tr {
                            td { a href={"/app/cases/" (encode(&d.declaration_id))} { (d.declaration_id) } }
                            td { (lane_badge(d.lane)) }
                            td { (format!("{:.1}%", d.score * 100.0)) }
                            @if let Some(sub) = &d.subject {
                                td { (sub.importer) } td { (sub.hs_code) } td { (sub.office) } td { (sub.date) }
                            } @else {
                                td.muted colspan="4" { "not recorded" }
                            }
                            td { (case_cell(&r.case)) }
                            td { (one_line_why(d)) }
                        }
                    }
                }
            }
            nav aria-label="Pages" {
                @if found.page > 1 { a href=(link(found.page - 1)) rel="prev" { "← Previous" } " " }
                @if found.page < pages { a href=(link(found.page + 1)) rel="next" { "Next →" } }
            }
        },
    )))
}

fn case_cell(c: &Option<CaseRecord>) -> Markup {
    match c {
        None => html! { span.muted { "pending" } },
        Some(c) => html! {
            (c.state.words())
            @if let Some(h) = &c.holder { br; span.muted { (h) } }
        },
    }
}

/// The one-line "why" of a queue row: the strongest reason in customs words, else the lane's
/// basis sentence.
fn one_line_why(d: &borderline_governance::audit::Decision) -> String {
    let groups = group_reasons(&d.reasons);
    match groups.first() {
        Some(g) => g.text.clone(),
        None => d.why.clone(),
    }
}

pub(super) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------- declaration case page

/// One piece of evidence stated once: reasons with the same sentence are one finding, with
/// the contributions of the model features that restate it added together.
struct Finding {
    kind: ReasonKind,
    text: String,
    codes: Vec<String>,
    contribution: Option<f64>,
}

/// The rule ids of a finding of kind rule, each once (the queue's rule filter takes them).
fn rule_codes(f: &Finding) -> Vec<&str> {
    let mut ids: Vec<&str> = f.codes.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn group_reasons(reasons: &[Reason]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for r in reasons {
        let key = r.text.trim().to_lowercase();
        if let Some(f) = out.iter_mut().find(|f| f.text.trim().to_lowercase() == key) {
            f.codes.push(r.code.clone());
            if let Some(c) = r.contribution {
                f.contribution = Some(f.contribution.unwrap_or(0.0) + c);
            }
        } else {
            out.push(Finding {
                kind: r.kind,
                text: r.text.clone(),
                codes: vec![r.code.clone()],
                contribution: r.contribution,
            });
        }
    }
    out
}

fn kind_heading(k: ReasonKind) -> &'static str {
    match k {
        ReasonKind::Rule => "Analyst rule",
        ReasonKind::Screening => "Party screening",
        ReasonKind::Valuation => "Declared value",
        ReasonKind::Classification => "Tariff classification (HS code)",
        ReasonKind::DataQuality => "Declaration data quality",
        ReasonKind::Model => "Risk model: history and profile",
    }
}

fn basis_words(b: &borderline_governance::selectivity::Basis) -> String {
    match serde_json::to_value(b)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
    {
        Some(s) if s == "score" => "risk model score".into(),
        Some(s) if s == "rule" => "analyst rule".into(),
        Some(s) if s == "random" => "random selection".into(),
        Some(s) if s == "exploration" => "exploration".into(),
        Some(s) => s,
        None => "unknown".into(),
    }
}

/// `?explain=1` on a case page: the decision's reasons computed on demand.
#[derive(Deserialize, Default)]
pub struct CaseQuery {
    #[serde(default)]
    explain: Option<String>,
}

pub async fn case(
    State(st): St,
    s: SignedIn,
    Path(id): Path<String>,
    Query(cq): Query<CaseQuery>,
) -> PageResult {
    s.require(Permission::ReadDecisions)?;
    let on_demand = cq.explain.is_some();
    let store = st.store.clone();
    let (key, who) = (id.clone(), s.who.clone());
    let (scorer, classifier, caps, benchmarks, parties) = (
        st.scorer.current(),
        st.classifier.clone(),
        st.config.capacities,
        st.benchmarks.clone(),
        st.parties.clone(),
    );
    let found = blocking(move || {
        let Some(view) = case_uc::view(store.as_ref(), &who, &key)? else {
            return Ok(None);
        };
        let cf = case_uc::counterfactual(
            store.as_ref(),
            &who,
            scorer.as_deref(),
            Some(&classifier),
            &view.decision,
            caps,
        )?;
        let explained = if on_demand {
            Some(case_uc::explain_on_demand(
                store.as_ref(),
                &who,
                scorer.as_deref(),
                &view.decision,
                8,
            )?)
        } else {
            None
        };
        let ev = case_uc::evidence(
            store.as_ref(),
            &who,
            case_uc::EvidenceSources {
                benchmarks: benchmarks.as_deref(),
                classifier: Some(&classifier),
                screening: parties.as_deref().map(|p| p.recorded()),
                network: parties.as_deref().map(|p| p.network()),
            },
            &view.decision,
        )?;
        Ok(Some((view, cf, ev, explained)))
    })
    .await?;
    let (view, cf, ev, explained) = found.ok_or_else(|| {
        crate::problem::ApiError::not_found(format!("no decision recorded for declaration {id}"))
    })?;
    let d = &view.decision;
    let findings = group_reasons(&d.reasons);
    let mut by_kind: BTreeMap<&'static str, Vec<&Finding>> = BTreeMap::new();
    for f in &findings {
        by_kind.entry(kind_heading(f.kind)).or_default().push(f);
    }
    let steps: Vec<Step<'_>> = findings
        .iter()
        .filter_map(|f| {
            f.contribution.map(|c| Step {
                label: f.text.as_str(),
                contribution: c,
            })
        })
        .collect();
    Ok(html_page(page(
        &s,
        &format!("Declaration {}", d.declaration_id),
        html! {
            h1 { "Declaration " (d.declaration_id) }
            section.card aria-labelledby="decision-h" {
                h2 #decision-h { "Decision" }
                p { "Lane " (lane_badge(d.lane)) " · selected by " strong { (basis_words(&d.basis)) } }
                p { "Calibrated risk of fraud: " strong { (format!("{:.1}%", d.score * 100.0)) } }
                (svg::risk_bar(d.score, lane_word(d.lane)))
                p.muted { (d.why) " · model " (d.model_version) " · rules " (d.rules_version) }
                @if let Some(sub) = &d.subject {
                    p { "Importer " (sub.importer) " · HS " (sub.hs_code) " · office " (sub.office) " · declared " (sub.date) }
                }
            }
            (case_section(&s, &view))
            section.card aria-labelledby="reasons-h" {
                h2 #reasons-h { "Reasons" }
                @if findings.is_empty() {
                    p { "No reason was recorded with this decision (reasons are computed for red and yellow lanes)." }
                    @if explained.is_none() {
                        form method="get" action={"/app/cases/" (encode(&d.declaration_id))} {
                            input type="hidden" name="explain" value="1";
                            button type="submit" { "Explain this declaration" }
                        }
                    }
                }
                @for (heading, items) in &by_kind {
                    h3 { (heading) }
                    ul {
                        @for f in items {
                            li {
                                (f.text)
                                @if let Some(c) = f.contribution { span.muted { " (" (format!("{c:+.3}")) " log-odds)" } }
                                @if f.codes.len() > 1 { span.muted { " — stated once for " (f.codes.join(", ")) } }
                                @if f.kind == ReasonKind::Rule {
                                    @for id in rule_codes(f) {
                                        " · " a href={"/app/queue?rule=" (encode(id))} { "queue of declarations hit by rule " (id) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !steps.is_empty() {
                section.card aria-labelledby="chart-h" {
                    h2 #chart-h { "Contribution of each reason" }
                    (svg::waterfall(&steps))
                }
            }
            @if let Some(x) = &explained { (on_demand_section(x)) }
            (valuation_section(&ev.valuation))
            (hs_section(&ev.hs))
            (screening_section(&ev.screening))
            @if let Some(h) = &ev.history { (history_section(h)) }
            (counterfactual_section(&cf, lane_word(d.lane)))
        },
    )))
}

/// Reasons computed on demand for a decision that has none recorded, with their waterfall.
fn on_demand_section(x: &case_uc::OnDemandExplanation) -> Markup {
    html! {
        section.card #explained aria-labelledby="explained-h" {
            h2 #explained-h { "Explanation computed on demand" }
            @match x {
                case_uc::OnDemandExplanation::InputNotStored => p { "The declaration as scored was not stored with this decision, so it cannot be explained." }
                case_uc::OnDemandExplanation::OtherModel { decided_by, active } => p { "Decided by model " (decided_by) "; the active model is "
                    (active.as_deref().unwrap_or("none")) ". Rescoring with another model would not explain this decision." }
                case_uc::OnDemandExplanation::Computed { reasons } => {
                    p.muted { "Exact contributions (TreeSHAP) of the model that decided, for its stored input; nothing is recorded." }
                    @let findings = group_reasons(reasons);
                    @if findings.is_empty() { p { "No feature moved the score from the model's baseline." } }
                    ul { @for f in &findings { li { (f.text) @if let Some(c) = f.contribution { span.muted { " (" (format!("{c:+.3}")) " log-odds)" } } } } }
                    @let steps: Vec<Step<'_>> = findings.iter().filter_map(|f| f.contribution.map(|c| Step { label: f.text.as_str(), contribution: c })).collect();
                    @if !steps.is_empty() { (svg::waterfall(&steps)) }
                }
            }
        }
    }
}

/// The declared unit value drawn on its benchmark cell's distribution.
fn valuation_section(v: &case_uc::ValuationEvidence) -> Markup {
    use borderline_valuation_view::*;
    html! {
        section.card #valuation aria-labelledby="val-h" {
            h2 #val-h { "Declared value against the benchmarks" }
            @match v {
                case_uc::ValuationEvidence::NoBenchmarks => p { "This server was started without valuation benchmarks (serve --benchmarks FILE), so the declared value is not compared." }
                case_uc::ValuationEvidence::InputNotStored => p { "The declaration as scored was not stored with this decision, so its value cannot be compared." }
                case_uc::ValuationEvidence::Checked { check, currency } => {
                    @let c = &check.check;
                    @let cur = currency.as_deref().map(borderline_core::currency_shown).unwrap_or("(benchmark currency)");
                    @match (&c.outcome, &c.cell) {
                        (CheckOutcome::DataQuality { problem }, _) => p { "Not compared: " (problem.text()) }
                        (CheckOutcome::NoBenchmark, _) | (_, None) => p { "No benchmark cell for this HS code has enough declarations to compare with." }
                        (CheckOutcome::Checked, Some(cell)) => {
                            @let unit = format!("{cur}/kg");
                            p { "Declared unit value " strong { (borderline_core::amount_shown(c.log_unit_value.exp())) " " (unit) }
                                " is at the " strong { (format!("{:.0}", c.percentile)) } "th percentile of "
                                (cell.n) " declarations in its benchmark cell ("
                                (c.level.map(level_words).unwrap_or("cell")) "), "
                                (direction_words(c.direction)) @if c.flagged { " — " strong { "flagged" } } "." }
                            div.chart-wrap { (svg::benchmark_position(&cell.grid, c.log_unit_value, &unit)) }
                            @if !check.reasons.is_empty() { ul { @for r in &check.reasons { li { (r.text) } } } }
                        }
                    }
                }
            }
        }
    }
}

mod borderline_valuation_view {
    pub use borderline_app::valuation::{CheckOutcome, Direction, Level};

    pub fn level_words(l: Level) -> &'static str {
        match l {
            Level::Hs6Origin => "same HS6 code and origin",
            Level::Hs6 => "same HS6 code, all origins",
            Level::Hs4 => "same HS4 heading",
            Level::Hs2 => "same HS2 chapter",
        }
    }

    pub fn direction_words(d: Direction) -> &'static str {
        match d {
            Direction::Under => "below the reference price",
            Direction::Over => "above the reference price",
            Direction::Within => "within the usual range",
        }
    }
}

/// The declared HS code against the classifier's suggestions for the goods description.
fn hs_section(h: &case_uc::HsEvidence) -> Markup {
    html! {
        section.card #hs aria-labelledby="hs-h" {
            h2 #hs-h { "Declared HS code against the goods description" }
            @match h {
                case_uc::HsEvidence::NoDescription => p { "The declaration carries no goods description, so the HS code cannot be checked against it." }
                case_uc::HsEvidence::NoClassifier => p { "No HS classifier is loaded." }
                case_uc::HsEvidence::InputNotStored => p { "The declaration as scored was not stored with this decision, so its description cannot be classified." }
                case_uc::HsEvidence::Checked { result } => {
                    p { "Declared " strong { (result.declared) } ": "
                        strong { (if result.plausible { "consistent with the description" } else { "not consistent with the description" }) }
                        " (confidence " (format!("{:.1}%", result.declared_confidence * 100.0))
                        @if let Some(r) = result.declared_rank { ", rank " (r) } ")." }
                    @let items = hs_bars(result);
                    div.chart-wrap { (svg::bars("Confidence of the suggested HS codes and of the declared one", &items, 0.0, &[], |v| format!("{:.1}%", v * 100.0))) }
                    table { thead { tr { th { "Suggested code" } th { "Description" } th { "Confidence" } } }
                        tbody { @for g in &result.suggestions { tr { td { (g.code) } td { (g.description) } td { (format!("{:.1}%", g.confidence * 100.0)) } } } } }
                    @if !result.reasons.is_empty() { ul { @for r in &result.reasons { li { (r.text) } } } }
                }
            }
        }
    }
}

/// The declaration's parties against the watchlists (each hit with the words that matched and
/// how), and the supplier-network paths from them to listed entities, drawn as graphs.
fn screening_section(e: &case_uc::ScreeningEvidence) -> Markup {
    html! {
        section.card #screening aria-labelledby="scr-h" {
            h2 #scr-h { "Parties against the watchlists" }
            @match e {
                case_uc::ScreeningEvidence::NoPartyDirectory => p { "This server was started without a party directory (serve --parties FILE): the parties are known only by their ids, so they are not screened." }
                case_uc::ScreeningEvidence::InputNotStored => p { "The declaration as scored was not stored with this decision, so its parties cannot be screened." }
                case_uc::ScreeningEvidence::Screened { parties, paths } => {
                    table { thead { tr { th { "Role" } th { "Party" } th { "Name in the party directory" } th { "Watchlist entries matched" } } }
                        tbody { @for p in parties { tr {
                            td { (p.role) } td { (p.party_id) }
                            td { @match &p.name { Some(n) => { (n) @if let Some(c) = &p.country { span.muted { " (" (c) ")" } } } None => span.muted { "not in the directory (not screened)" } } }
                            td {
                                @if p.name.is_some() && p.hits.is_empty() { "none" }
                                @for h in &p.hits {
                                    div.hit {
                                        strong { (h.entry_name) } " on " (h.list)
                                        @if !h.programs.is_empty() { " (" (h.programs.join(", ")) ")" }
                                        ": score " strong { (format!("{:.2}", h.score)) }
                                        @if h.matched_name != h.entry_name { span.muted { " — matched the list name \"" (h.matched_name) "\"" } }
                                        (token_table(&h.explanation))
                                    }
                                }
                                @if let Some(r) = &p.region { p.refusal { (r) } }
                            }
                        } } }
                    }
                    h3 { "Supplier-network paths to listed entities" }
                    @if paths.is_empty() { p { "No listed entity is linked to these parties within the screening's hop limit." } }
                    @for path in paths {
                        p { (path.describe()) }
                        div.chart-wrap { (svg::network_path(&path.nodes, &path.relations, &path.listed_detail)) }
                    }
                }
            }
        }
    }
}

/// Which word of the party's name matched which word of the list name, and how.
fn token_table(x: &borderline_app::screening::HitExplanation) -> Markup {
    use borderline_app::screening::MatchHow;
    let how = |h: &MatchHow| match h {
        MatchHow::Exact => "same word".to_string(),
        MatchHow::Fuzzy { edits } => format!(
            "spelling ({edits} letter{})",
            if *edits == 1 { "" } else { "s" }
        ),
        MatchHow::Merged => "words written together".into(),
        MatchHow::LegalForm => "legal form".into(),
        MatchHow::Nickname => "nickname".into(),
        MatchHow::Phonetic => "transliteration".into(),
        MatchHow::Initial => "initial".into(),
        MatchHow::Symbol => "same company word in another language".into(),
    };
    html! {
        table.tokens {
            caption.muted { "Name " (format!("{:.2}", x.name_score)) " before country, number and address evidence" }
            thead { tr { th { "Party's word" } th { "List word" } th { "How" } th { "Weight" } } }
            tbody {
                @for m in &x.matched { tr { td { (m.query) } td { (m.candidate) } td { (how(&m.how)) } td { (format!("{:.2}", m.weight)) } } }
                @for w in &x.unmatched_query { tr { td { (w) } td.muted { "—" } td { "not in the list name" } td {} } }
                @for w in &x.unmatched_candidate { tr { td.muted { "—" } td { (w) } td { "not in the party's name" } td {} } }
            }
        }
        @if !x.notes.is_empty() { ul { @for n in &x.notes { li { (n) } } } }
    }
}

/// The suggested codes' confidence as bars, and the declared code's (highlighted) when it is
/// not among them.
fn hs_bars(result: &borderline_app::hs::CheckResult) -> Vec<svg::Bar<'_>> {
    let mut items: Vec<svg::Bar<'_>> = result
        .suggestions
        .iter()
        .map(|g| svg::Bar {
            label: g.code.as_str(),
            value: g.confidence,
            highlight: g.code == result.declared,
        })
        .collect();
    if !items.iter().any(|b| b.highlight) {
        items.push(svg::Bar {
            label: result.declared.as_str(),
            value: result.declared_confidence,
            highlight: true,
        });
    }
    items
}

/// The importer's history: decisions by lane, cases by state, outcomes, riskiest others.
fn history_section(h: &case_uc::ImporterHistory) -> Markup {
    let frauds = h.outcomes.iter().filter(|o| o.fraud).count();
    let recovered: f64 = h.outcomes.iter().filter_map(|o| o.amount_recovered).sum();
    html! {
        section.card #history aria-labelledby="hist-h" {
            h2 #hist-h { "History of importer " (h.importer) }
            p { (h.decisions) " declarations with a recorded decision: "
                @for (i, (lane, n)) in h.by_lane.iter().enumerate() { @if i > 0 { ", " } (n) " " (lane_word(*lane)) } "." }
            p { "Cases: " @for (i, (state, n)) in h.by_case.iter().enumerate() { @if i > 0 { ", " } (n) " " (state.words()) } "." }
            p #history-outcomes { (h.outcomes.len()) " inspection outcomes recorded, " (frauds) " with fraud"
                @if recovered > 0.0 { ", " (money(recovered)) " recovered" } "."
                @if h.scanned < h.decisions { span.muted { " (outcomes of the " (h.scanned) " riskiest of its declarations)" } } }
            @if !h.outcomes.is_empty() {
                table { thead { tr { th { "Declaration" } th { "Decided on" } th { "Decision" } th { "Finding" } th { "Recovered" } } }
                    tbody { @for o in h.outcomes.iter().take(20) { tr {
                        td { a href={"/app/cases/" (encode(&o.declaration_id))} { (o.declaration_id) } }
                        td { (o.decided_on) } td { (o.decision) }
                        td { (match o.critical_level { 0 => "no fraud", 1 => "fraud", _ => "critical fraud" }) }
                        td { (o.amount_recovered.map(money).unwrap_or_default()) }
                    } } } }
            }
            @if !h.riskiest.is_empty() {
                h3 { "Its riskiest other declarations" }
                table { thead { tr { th { "Declaration" } th { "Lane" } th { "Risk" } th { "HS" } th { "Date" } th { "Case" } } }
                    tbody { @for r in &h.riskiest { @let d = &r.decision; tr {
                        td { a href={"/app/cases/" (encode(&d.declaration_id))} { (d.declaration_id) } }
                        td { (lane_badge(d.lane)) } td { (format!("{:.1}%", d.score * 100.0)) }
                        td { (d.subject.as_ref().map(|s| s.hs_code.as_str()).unwrap_or("")) }
                        td { (d.subject.as_ref().map(|s| s.date.as_str()).unwrap_or("")) }
                        td { (case_cell(&r.case)) }
                    } } } }
            }
        }
    }
}

fn money(v: f64) -> String {
    format!("{v:.2}")
}

/// "What would have changed the lane" in plain words (officers and appeals; the page is not
/// reachable by traders).
fn counterfactual_section(cf: &CounterfactualView, lane: &str) -> Markup {
    html! {
        section.card #counterfactual aria-labelledby="cf-h" {
            h2 #cf-h { "What would have changed the lane" }
            @match cf {
                CounterfactualView::LowestLane => p { "This declaration is in the " (lane) " lane: there is no lower lane to reach by score." }
                CounterfactualView::InputNotStored => p { "The declaration as scored was not stored with this decision, so it cannot be rescored." }
                CounterfactualView::OtherModel { decided_by, active } => p {
                    "Decided by model " (decided_by) "; the active model is "
                    (active.as_deref().unwrap_or("none")) ". Rescoring with another model would not explain this decision."
                }
                CounterfactualView::Computed { result } => @match result {
                    Counterfactual::AlreadyUnder { probability, threshold } => p {
                        "The score " (format!("{:.1}%", probability * 100.0)) " is already under the " (lane) " threshold "
                        (format!("{:.1}%", threshold * 100.0)) ": the lane came from the declaration's rank in its batch, not from the threshold."
                    }
                    Counterfactual::Found { probability, threshold, candidate, tried } => {
                        p { "The smallest change to what the declarant controls that brings the score from "
                            strong { (format!("{:.1}%", probability * 100.0)) } " under the " (lane) " threshold "
                            (format!("{:.1}%", threshold * 100.0)) ", checked by rescoring:" }
                        ul #cf-change {
                            @if let Some((from, to)) = candidate.change.customs_value {
                                li { "declared customs value " (money(from)) " → " strong { (money(to)) } }
                            }
                            @if let Some((from, to)) = &candidate.change.hs_code {
                                li { "HS code " (from) " → " strong { (to) } }
                            }
                            @if let Some((from, to)) = &candidate.change.origin {
                                li { "origin " (from) " → " strong { (to) } }
                            }
                        }
                        p { "Rescored risk with this change: " strong #cf-rescored { (format!("{:.1}%", candidate.probability * 100.0)) } }
                        p.muted { (tried) " changes of declared value, HS code (the classifier's suggestions for the description) and origin (origins of this HS code in the model's history) were rescored; fewer changed fields, then a smaller change of value, count as smaller." }
                    }
                    Counterfactual::NotFound { probability, threshold, closest, tried } => {
                        p { "No change among the " (tried) " tried brings the score " (format!("{:.1}%", probability * 100.0))
                            " under the " (lane) " threshold " (format!("{:.1}%", threshold * 100.0)) ": the lane rests on what the declarant does not control (history, parties)." }
                        @if let Some(c) = closest { p.muted { "Lowest rescored risk among them: " (format!("{:.1}%", c.probability * 100.0)) "." } }
                    }
                }
            }
        }
    }
}

/// The case's state and what this officer or supervisor can do with it: take it, escalate
/// it, record the outcome (the holder), reassign it (a supervisor).
fn case_section(s: &SignedIn, v: &case_uc::CaseView) -> Markup {
    let id = encode(&v.decision.declaration_id);
    let holder = v.case.as_ref().and_then(|c| c.holder.clone());
    let mine = holder
        .as_deref()
        .is_some_and(|h| same_person(h, &s.who.actor.id));
    let open = matches!(v.state, CaseState::InInspection | CaseState::Escalated);
    let officer = s.who.may(Permission::RecordOutcomes);
    let supervisor = s.who.may(Permission::AssignCases);
    html! {
        section.card aria-labelledby="case-h" {
            h2 #case-h { "Case" }
            p #case-state { "State: " strong { (v.state.words()) }
                @if let Some(h) = &holder { " · held by " strong { (h) } }
                @if let Some(c) = &v.case { span.muted { " · last change by " (c.updated_by) " at " (c.updated_at) } }
            }
            @if let Some(n) = v.case.as_ref().and_then(|c| c.note.as_ref()) {
                p { "Escalation note: " (n) }
            }
            @if let Some(f) = v.case.as_ref().and_then(|c| c.feedback_id) {
                p { "Outcome recorded as feedback record " (f) "." }
            }
            @if officer && v.state == CaseState::Pending {
                form method="post" action={"/app/cases/" (id) "/take"} {
                    input type="hidden" name="csrf" value=(s.session.csrf);
                    button type="submit" { "Take this case" }
                }
            }
            @if officer && open && !mine {
                p.refusal role="note" { "This case is held by " (holder.as_deref().unwrap_or("another officer"))
                    ": you cannot work it. A supervisor can reassign it." }
            }
            @if officer && open && mine {
                @if v.state == CaseState::InInspection {
                    form method="post" action={"/app/cases/" (id) "/escalate"} {
                        input type="hidden" name="csrf" value=(s.session.csrf);
                        p { label { "Escalate to a supervisor: why" br; textarea name="note" rows="2" cols="60" required {} } }
                        button type="submit" { "Escalate" }
                    }
                }
                form #decision-form method="post" action={"/app/cases/" (id) "/close"} {
                    input type="hidden" name="csrf" value=(s.session.csrf);
                    fieldset {
                        legend { "Decision" }
                        label { input type="radio" name="decision" value="inspect" checked; " inspect" } " "
                        label { input type="radio" name="decision" value="release"; " release" }
                    }
                    fieldset {
                        legend { "Outcome" }
                        p { label { "Fraud found " select name="finding" {
                            option value="none" { "no fraud" }
                            option value="fraud" { "fraud (level 1)" }
                            option value="critical" { "critical fraud (level 2)" }
                        } } }
                        p { label { "Amount recovered " input name="amount_recovered" type="number" min="0" step="0.01" inputmode="decimal"; } }
                        p { label { "Note" br; textarea name="note" rows="3" cols="60" {} } }
                    }
                    button type="submit" { "Record outcome" }
                }
            }
            @if supervisor && v.state != CaseState::OutcomeRecorded {
                form method="post" action={"/app/cases/" (id) "/reassign"} {
                    input type="hidden" name="csrf" value=(s.session.csrf);
                    label { "Reassign to officer (account id) " input name="to" required autocomplete="off"; }
                    " " button type="submit" { "Reassign" }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct ReassignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    finding: String,
    #[serde(default)]
    amount_recovered: String,
    #[serde(default)]
    note: String,
}

fn back_to_case(id: &str) -> Response {
    Redirect::to(&format!("/app/cases/{}", encode(id))).into_response()
}

pub async fn take(
    State(st): St,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    let (store, who, key) = (st.store.clone(), s.who.clone(), id.clone());
    blocking(move || case_uc::take(store.as_ref(), &who, &key)).await?;
    Ok(back_to_case(&id))
}

pub async fn escalate(
    State(st): St,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    let (store, who, key) = (st.store.clone(), s.who.clone(), id.clone());
    blocking(move || case_uc::escalate(store.as_ref(), &who, &key, &f.note)).await?;
    Ok(back_to_case(&id))
}

pub async fn reassign(
    State(st): St,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ReassignForm>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    let (store, who, key) = (st.store.clone(), s.who.clone(), id.clone());
    blocking(move || case_uc::reassign(store.as_ref(), &who, &key, &f.to)).await?;
    Ok(back_to_case(&id))
}

pub async fn close(
    State(st): St,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CloseForm>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    let invalid = |field: &str, problem: &str| -> WebError {
        crate::problem::ApiError::invalid(field, format!("{field}: {problem}")).into()
    };
    let disposition = match f.decision.as_str() {
        "inspect" => Disposition::Inspect,
        "release" => Disposition::Release,
        _ => return Err(invalid("decision", "inspect or release")),
    };
    let critical_level = match f.finding.as_str() {
        "" | "none" => 0,
        "fraud" => 1,
        "critical" => 2,
        _ => return Err(invalid("finding", "none, fraud or critical")),
    };
    let amount_recovered = match some(&f.amount_recovered) {
        None => None,
        Some(a) => match a.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
            _ => return Err(invalid("amount_recovered", "a non-negative number")),
        },
    };
    let closing = Closing {
        disposition,
        fraud: critical_level > 0,
        critical_level,
        amount_recovered,
        note: some(&f.note),
        decided_on: chrono::Utc::now().date_naive(),
    };
    let (store, who, key) = (st.store.clone(), s.who.clone(), id.clone());
    blocking(move || case_uc::close(store.as_ref(), &who, &key, &closing)).await?;
    Ok(back_to_case(&id))
}

// ---------------------------------------------------------------- model registry

pub async fn models(State(st): St, s: SignedIn) -> PageResult {
    s.require(Permission::ReadModelCards)?;
    let store = st.store.clone();
    let (list, used) = blocking(move || {
        Ok((
            models::list(store.as_ref())?,
            models::in_use(store.as_ref())?,
        ))
    })
    .await?;
    let has_active = list.iter().any(|m| m.state.as_str() == "active");
    let (may_approve, may_activate) = (
        s.who.may(Permission::ApproveModels),
        s.who.may(Permission::ActivateModels),
    );
    Ok(html_page(page(
        &s,
        "Models",
        html! {
            h1 { "Model registry" }
            @if may_activate && has_active {
                form.card #rollback method="post" action="/app/models/rollback" {
                    input type="hidden" name="csrf" value=(s.session.csrf);
                    p { "Roll back: retire the active model and reactivate the one it replaced (an approved model; the registry refuses when there is none)." }
                    label { "Reason for the roll-back " input name="reason" required; }
                    " " button type="submit" { "Roll back" }
                }
            }
            @if list.is_empty() { p { "No model is registered." } }
            @for m in &list {
                section.card {
                    h2 { (m.model.version) " " span.muted { "(" (m.state.as_str()) ")" } }
                    p { "Trained by " (m.model.trainer) " · registered by " (m.registered_by) " on " (m.registered_at)
                        @if let Some(a) = &m.approved_by { " · approved by " (a) @if let Some(r) = &m.approval_reason { ": " (r) } } }
                    dl {
                        dt { "Intended use" } dd { (m.model.card.intended_use) }
                        dt { "Data" } dd { (m.model.card.data) }
                        dt { "Limits" } dd { (m.model.card.limits) }
                        @if let Some(e) = &m.model.card.evaluated_on { dt { "Evaluated on" } dd { (e) } }
                    }
                    @if let Some(obj) = m.model.metrics.as_object() {
                        table { thead { tr { th { "Metric" } th { "Value" } } }
                            tbody { @for (k, v) in obj { tr { td { (k) } td { (v) } } } } }
                    }
                    (super::oversight::model_charts(m, used.get(&m.model.version)))
                    @if may_approve && m.state.as_str() == "draft" {
                        form method="post" action={"/app/models/" (encode(&m.model.version)) "/approve"} {
                            input type="hidden" name="csrf" value=(s.session.csrf);
                            label { "Reason for approval " input name="reason" required; }
                            " " button type="submit" { "Approve" }
                        }
                    }
                    @if may_activate && m.state.as_str() == "approved" {
                        form method="post" action={"/app/models/" (encode(&m.model.version)) "/activate"} {
                            input type="hidden" name="csrf" value=(s.session.csrf);
                            button type="submit" { "Activate" }
                        }
                    }
                }
            }
        },
    )))
}

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn approve(
    State(st): St,
    s: SignedIn,
    Path(version): Path<String>,
    Form(f): Form<ApproveForm>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    s.require(Permission::ApproveModels)?;
    let store = st.store.clone();
    let actor = s.who.actor.clone();
    let v = version.clone();
    // The registry enforces four-eyes; its refusal is shown as it is worded.
    blocking(move || models::approve(store.as_ref(), &actor, &v, &f.reason)).await?;
    Ok(Redirect::to("/app/models").into_response())
}

pub async fn activate(
    State(st): St,
    s: SignedIn,
    Path(version): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    s.check_csrf(&f.csrf)?;
    s.require(Permission::ActivateModels)?;
    let store = st.store.clone();
    let actor = s.who.actor.clone();
    let st2 = st.clone();
    blocking(move || {
        models::activate(store.as_ref(), &actor, &version)?;
        st2.reload_active()
    })
    .await?;
    Ok(Redirect::to("/app/models").into_response())
}

pub async fn rollback(State(st): St, s: SignedIn, Form(f): Form<ApproveForm>) -> PageResult {
    s.check_csrf(&f.csrf)?;
    s.require(Permission::ActivateModels)?;
    let st2 = st.clone();
    let actor = s.who.actor.clone();
    // The registry decides (an approved, superseded model to return to); its refusal is shown.
    blocking(move || {
        models::rollback(st2.store.as_ref(), &actor, &f.reason)?;
        st2.reload_active()
    })
    .await?;
    Ok(Redirect::to("/app/models").into_response())
}

// ---------------------------------------------------------------- audit

const RECENT: usize = 100;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl AuditQuery {
    fn filter(&self) -> Result<audit::AuditFilter, WebError> {
        Ok(audit::AuditFilter {
            actor: some(&self.actor),
            action: some(&self.action),
            from: date_field("from", &self.from)?,
            to: date_field("to", &self.to)?,
        })
    }

    fn query_string(&self) -> String {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

pub async fn audit(State(st): St, s: SignedIn, Query(q): Query<AuditQuery>) -> PageResult {
    s.require(Permission::ReadAudit)?;
    let filter = q.filter()?;
    let (store, witness) = (st.store.clone(), st.witness.clone());
    let (report, (rows, matched)) = blocking(move || {
        let report = audit::verify_with(store.as_ref(), witness.as_ref())?;
        let found = audit::search(store.as_ref(), &filter, RECENT)?;
        Ok((report, found))
    })
    .await?;
    let holds = report.holds();
    let qs = q.query_string();
    Ok(html_page(page(
        &s,
        "Audit",
        html! {
            h1 { "Audit log" }
            div #chain-status class=(if holds { "ok" } else { "refusal" }) role="status" {
                p { strong { (if holds { "Chain verified." } else { "Chain does NOT verify." }) } " " (report.chain) }
                @match &report.chain {
                    Verification::Intact { records, head } => p { (records) " records; head " code { (head) } }
                    Verification::Broken { seq, verified, .. } => p { "First break at record " (seq) "; " (verified) " records before it verified." }
                }
                @for f in &report.registry { p { "Registry disagrees with the chain: " (format!("{f:?}")) } }
                @match &report.checkpoints {
                    Some(c) => p { "Signed checkpoints: " (c.checked) " checked; the chain is verified up to record " (c.covered) " by a signed checkpoint"
                        @if !c.findings.is_empty() { "; " (c.findings.len()) " findings" } "." }
                    None => p.muted { "This server checks no witness file: signed checkpoints are verified with " code { "borderline audit verify --witness FILE --public-key FILE" } "." }
                }
            }
            form.filters method="get" action="/app/audit" role="search" {
                label { "Actor (account id)" input name="actor" value=(q.actor) autocomplete="off"; }
                label { "Action (or its start)" input name="action" value=(q.action) list="audit-actions"; }
                datalist #audit-actions { @for a in ["decision", "case.", "feedback.record", "model.", "rules.", "account."] { option value=(a) {} } }
                label { "Recorded from" input name="from" type="date" value=(q.from); }
                label { "to" input name="to" type="date" value=(q.to); }
                button type="submit" { "Filter" }
            }
            p #audit-matched { (matched) " records match"
                @if matched as usize > rows.len() { "; the newest " (rows.len()) " are shown" } ". "
                a href={"/app/audit/export.csv" @if !qs.is_empty() { "?" (qs) }} download { "Export them as CSV" } }
            table {
                thead { tr { th { "#" } th { "Recorded" } th { "By" } th { "Event" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.seq) } td { (r.recorded_at) } td { (r.user) }
                            td {
                                @match r.lane {
                                    Some(l) => { "decision: " a href={"/app/cases/" (encode(&r.subject))} { (r.subject) } " → " (lane_badge(l)) }
                                    None => { (r.action) " " (r.subject) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )))
}

pub async fn audit_csv(State(st): St, s: SignedIn, Query(q): Query<AuditQuery>) -> PageResult {
    s.require(Permission::ReadAudit)?;
    let filter = q.filter()?;
    let store = st.store.clone();
    let bytes = blocking(move || {
        let mut out = Vec::new();
        audit::export_csv(store.as_ref(), &filter, &mut out)?;
        Ok(out)
    })
    .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit.csv\""),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------- trader self-check

pub async fn self_check_form(s: SignedIn) -> PageResult {
    s.require(Permission::TraderSelfCheck)?;
    Ok(html_page(page(&s, "Self-check", self_check_upload(&s))))
}

fn self_check_upload(s: &SignedIn) -> Markup {
    html! {
        h1 { "Self-check of your declarations" }
        p { "Upload a CSV file in the generic layout (README, \"Input layouts\") with declarations of the importers your account acts for: "
            (s.who.importer_ids.join(", ")) ". You will see data-quality, valuation and HS code findings and, when you add your counterparties, their screening against the watchlists; no targeting score, lane or reason." }
        form.card method="post" action="/app/self-check" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(s.session.csrf);
            p { label { "Declarations (CSV) " input type="file" name="file" accept=".csv,text/csv" required; } }
            p { label { "Counterparties (CSV, optional: " code { (selfcheck::COUNTERPARTY_HEADER.join(",")) } ") " input type="file" name="counterparties" accept=".csv,text/csv"; } }
            button type="submit" name="format" value="page" { "Check" }
            " "
            button type="submit" name="format" value="json" { "Download the report (JSON)" }
        }
    }
}

pub async fn self_check(
    State(st): St,
    s: SignedIn,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let (mut csrf, mut file, mut parties_file, mut format) =
        (String::new(), Vec::new(), Vec::new(), String::new());
    while let Some(field) = form.next_field().await.map_err(|e| {
        crate::problem::ApiError::new(StatusCode::BAD_REQUEST, "unreadable-body", e.body_text())
    })? {
        let name = field.name().map(str::to_string);
        match name.as_deref() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("format") => format = field.text().await.unwrap_or_default(),
            Some(f @ ("file" | "counterparties")) => {
                let bytes = field.bytes().await.map_err(|e| {
                    crate::problem::ApiError::new(e.status(), "unreadable-body", e.body_text())
                })?;
                if f == "file" {
                    file = bytes.to_vec();
                } else {
                    parties_file = bytes.to_vec();
                }
            }
            _ => {}
        }
    }
    s.check_csrf(&csrf)?;
    s.require(Permission::TraderSelfCheck)?;
    let (c, m, b) = (
        st.classifier.clone(),
        st.matcher.clone(),
        st.benchmarks.clone(),
    );
    let who = s.who.clone();
    let report = blocking(move || {
        let (rows, mut refused) = declarations::from_csv_bytes(&file)?;
        let parties = if parties_file.is_empty() {
            Default::default()
        } else {
            let (p, bad) = selfcheck::counterparties_from_csv(&parties_file)?;
            refused.extend(bad.into_iter().map(|r| declarations::RefusedRow {
                field: format!("counterparties: {}", r.field),
                ..r
            }));
            p
        };
        let tools = selfcheck::SelfCheckTools {
            classifier: &c,
            matcher: &m,
            benchmarks: b.as_deref(),
            reference_date: chrono::Utc::now().date_naive(),
        };
        let mut checks = Vec::with_capacity(rows.len());
        let mut not_checked = Vec::new();
        for d in &rows {
            let own = parties
                .get(d.declaration_id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            match selfcheck::self_check(&who, d, own, &tools) {
                Ok(c) => checks.push(c),
                // Another importer's declaration: refused row by row, nothing about it shown.
                Err(AppError::Identity(IdentityError::Forbidden { .. })) => {
                    not_checked.push(d.declaration_id.to_string())
                }
                Err(e) => return Err(e),
            }
        }
        Ok(SelfCheckReport {
            checks,
            not_checked,
            refused,
        })
    })
    .await?;
    if format == "json" {
        let body = serde_json::to_vec_pretty(&report).map_err(|e| {
            crate::problem::ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "report",
                e.to_string(),
            )
        })?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"self-check.json\"",
                ),
            ],
            body,
        )
            .into_response());
    }
    Ok(html_page(page(
        &s,
        "Self-check",
        html! {
            (self_check_upload(&s))
            h2 { "Findings" }
            @for r in &report.refused {
                p.refusal { "Line " (r.line) ", " (r.field) ": " (r.reason) }
            }
            @for id in &report.not_checked {
                section.card { h3 { (id) } p.refusal { "Not checked: this declaration's importer is not one your account acts for." } }
            }
            @for c in &report.checks { (self_check_card(c)) }
        },
    ))
    .into_response())
}

/// What the self-check page shows and its JSON download holds.
#[derive(serde::Serialize)]
struct SelfCheckReport {
    checks: Vec<selfcheck::SelfCheck>,
    /// Declarations of importers the account does not act for: named, nothing else.
    not_checked: Vec<String>,
    refused: Vec<declarations::RefusedRow>,
}

fn self_check_card(c: &selfcheck::SelfCheck) -> Markup {
    html! {
        section.card {
            h3 { (c.declaration_id) }
            h4 { "Data quality" }
            @if c.data_quality.is_empty() { p { "No data-quality finding." } }
            ul { @for q in &c.data_quality { li { (q.text) } } }
            h4 { "Valuation" }
            @match &c.valuation {
                selfcheck::ValuationView::Withheld { reason } => p { "Not shown: " (reason) "." }
                selfcheck::ValuationView::Compared { unit_value, currency, level, percentile, quantiles, declarations, importers, outside_usual_range } => {
                    @let unit = format!("{}/kg", currency.as_deref().map(borderline_core::currency_shown).unwrap_or("(benchmark currency)"));
                    p { "Declared unit value " strong { (borderline_core::amount_shown(*unit_value)) " " (unit) } " is at the "
                        strong { (format!("{percentile:.0}")) } "th percentile of " (declarations) " declarations by " (importers)
                        " importers (" (borderline_valuation_view::level_words(*level)) ")"
                        @if *outside_usual_range { ": " strong { "outside the usual range (5th to 95th percentile)" } } "." }
                    div.chart-wrap { (svg::benchmark_position(&quantiles.map(f64::ln), unit_value.ln(), &unit)) }
                }
            }
            h4 { "HS code" }
            @match &c.hs {
                None => p { "No goods description: the HS code cannot be checked against it." }
                Some(h) => {
                    p { "Declared " (h.declared) ": " (if h.plausible { "consistent with the description" } else { "not consistent with the description" })
                        " (confidence " (format!("{:.0}%", h.declared_confidence * 100.0)) ")" }
                    ul { @for r in &h.reasons { li { (r.text) } } }
                    @if !h.suggestions.is_empty() {
                        p { "Likelier codes:" }
                        ul { @for g in h.suggestions.iter().take(3) { li { (g.code) " " (g.description) " (" (format!("{:.0}%", g.confidence * 100.0)) ")" } } }
                    }
                }
            }
            h4 { "Counterparties" }
            @if c.counterparties.is_empty() { p { "No counterparty given for this declaration." } }
            @for p in &c.counterparties {
                div.hit {
                    strong { (p.name) } ": "
                    @if p.hits.is_empty() { "no watchlist entry matched." }
                    @for h in &p.hits {
                        div { "matches " strong { (h.entry_name) } " on " (h.list) @if !h.programs.is_empty() { " (" (h.programs.join(", ")) ")" }
                            ", score " (format!("{:.2}", h.score)) (token_table(&h.explanation)) }
                    }
                    @if let Some(r) = &p.region { p.refusal { (r) } }
                }
            }
        }
    }
}
