//! The web application over HTTP against the real server: sign-in and sessions, CSRF, the
//! permission matrix on pages, the queue and case page, four-eyes on the registry page, the
//! audit page, and the trader's self-check seeing only its own importer.

mod common;

use common::{generic_csv, record_rule_hits, start, Browser};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_application_end_to_end() {
    let s = start().await;

    // --- a page without a session sends the browser to sign in
    let mut anon = Browser::new(&s.base);
    let p = anon.get("/app/queue").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/sign-in"));

    // --- sign-in form: anonymous session cookie, HttpOnly and SameSite=Strict
    let form = anon.get("/sign-in").await;
    assert_eq!(form.status, StatusCode::OK);
    let cookie = form.set_cookie.first().expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no TLS here: {cookie}");
    assert!(
        !form.body.contains("http://") && !form.body.contains("https://"),
        "nothing external"
    );

    // --- CSRF: sign-in without the form's token is refused, even with the right password
    let p = anon
        .post_form(
            "/sign-in",
            &[("account", "officer.one"), ("password", common::PASSWORD)],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);

    // --- a wrong password: one plain answer, no session
    let csrf = form.csrf().expect("csrf");
    let p = anon
        .post_form(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("account", "officer.one"),
                ("password", "wrong password!!"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.body.contains("do not match"));
    assert_eq!(anon.get("/app").await.status, StatusCode::SEE_OTHER);

    // --- officer: signs in (new session id), sees the queue in the navigation, not audit
    let mut officer = Browser::new(&s.base);
    officer.get("/sign-in").await;
    let before = officer.cookie.clone();
    officer.sign_in("officer.one").await;
    assert_ne!(officer.cookie, before, "the session id changes at sign-in");
    let home = officer.get("/app").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("/app/queue"));
    assert!(!home.body.contains("/app/audit") && !home.body.contains("/app/models"));
    assert_eq!(
        officer.get("/app/audit").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        officer.get("/app/self-check").await.status,
        StatusCode::FORBIDDEN
    );

    // --- queue: red filter shows only red rows, each with a why and a case link
    let q = officer.get("/app/queue?lane=red").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    assert!(q.body.contains("class=\"lane red\""), "{}", q.body);
    for lane in ["yellow", "blue", "green"] {
        assert!(
            !q.body.contains(&format!("class=\"lane {lane}\"")),
            "{lane} row under red filter"
        );
    }
    let first_case = q
        .body
        .split("href=\"/app/cases/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a case link")
        .to_string();
    let by_importer = officer
        .get(&format!("/app/queue?importer={}", s.other_importer))
        .await;
    assert!(by_importer.body.contains(&s.other_importer));
    assert!(!by_importer
        .body
        .contains(&format!("<td>{}</td>", s.importer)));
    assert_eq!(
        officer.get("/app/queue?from=yesterday").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // --- case page: risk, lane, basis, grouped reasons, the SVG waterfall
    let case = officer.get(&format!("/app/cases/{first_case}")).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    assert!(case.body.contains("Calibrated risk of fraud"));
    assert!(case.body.contains("selected by"));
    assert!(
        case.body.contains("<svg class=\"chart waterfall\""),
        "{}",
        case.body
    );
    assert_eq!(
        officer.get("/app/cases/NO-SUCH-ID").await.status,
        StatusCode::NOT_FOUND
    );

    // --- sign-out needs the token; afterwards the session is gone
    let old = officer.cookie.clone();
    assert_eq!(
        officer.post_form("/sign-out", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = home.csrf().expect("sign-out form token");
    let out = officer.post_form("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    officer.cookie = old;
    assert_eq!(
        officer.get("/app/queue").await.status,
        StatusCode::SEE_OTHER
    );

    // --- trader: no queue, no case page; self-check of its own importer only
    let mut trader = Browser::new(&s.base);
    trader.sign_in("trader.one").await;
    assert_eq!(trader.get("/app/queue").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        trader.get(&format!("/app/cases/{first_case}")).await.status,
        StatusCode::FORBIDDEN
    );
    let page = trader.get("/app/self-check").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf().expect("csrf");
    let csv = format!(
        "declaration_id,date,importer,hs_code,origin_country,net_mass_kg,customs_value,description\n\
         MINE-1,2021-03-01,{},850440,CN,12,3400,static converters for battery chargers\n\
         THEIRS-1,2021-03-01,{},850440,CN,12,3400,static converters\n",
        s.importer, s.other_importer
    );
    assert_eq!(
        trader
            .post_multipart("/app/self-check", "not-the-token", &csv)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = trader.post_multipart("/app/self-check", &csrf, &csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("MINE-1") && r.body.contains("Data quality") && r.body.contains("HS code")
    );
    assert!(r.body.contains("not one your account acts for"));
    // The page says it shows no score, lane or reason; nothing of them is rendered.
    for leak in [
        "class=\"lane",
        "Calibrated risk",
        "log-odds",
        "Risk model",
        "chart waterfall",
    ] {
        assert!(!r.body.contains(leak), "self-check shows {leak:?}");
    }

    // --- supervisor: four-eyes refusal shown plainly; another supervisor approves
    let mut dual = Browser::new(&s.base);
    dual.sign_in("dual.one").await;
    let models = dual.get("/app/models").await;
    assert!(models.body.contains(&s.draft_version));
    let csrf = models.csrf().expect("csrf");
    let path = format!("/app/models/{}/approve", s.draft_version);
    let refused = dual
        .post_form(&path, &[("csrf", &csrf), ("reason", "looks good")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("four-eyes"), "{}", refused.body);
    let mut sup = Browser::new(&s.base);
    sup.sign_in("supervisor.one").await;
    let csrf = sup.get("/app/models").await.csrf().expect("csrf");
    assert_eq!(
        sup.post_form(&path, &[("reason", "no token")]).await.status,
        StatusCode::FORBIDDEN
    );
    let ok = sup
        .post_form(
            &path,
            &[("csrf", &csrf), ("reason", "validated on 2021-Q2")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let act = sup
        .post_form(
            &format!("/app/models/{}/activate", s.draft_version),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(act.status, StatusCode::SEE_OTHER, "{}", act.body);
    // An auditor may read cards but not approve.
    let mut auditor = Browser::new(&s.base);
    auditor.sign_in("auditor.one").await;
    let csrf = auditor.get("/app/models").await.csrf().expect("csrf");
    assert_eq!(
        auditor
            .post_form(&path, &[("csrf", &csrf), ("reason", "x")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // --- audit page: the chain verifies, and the web approval names the session's actor
    let a = auditor.get("/app/audit").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Chain verified."), "{}", a.body);
    assert!(
        a.body.contains("supervisor.one"),
        "the approver is the session's actor"
    );
    assert!(
        a.body.contains("officer.one"),
        "the officer's decisions are recorded"
    );

    // --- disabling an account ends its sessions at the next page
    borderline_app::identity::disable_account(s.store.as_ref(), &s.admin, "trader.one")
        .expect("disable");
    assert_eq!(
        trader.get("/app/self-check").await.status,
        StatusCode::SEE_OTHER
    );

    // --- the stylesheet is served by the server itself
    let css = anon.get("/static/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
}

/// The first case link of a queue page.
fn first_case(body: &str) -> String {
    body.split("href=\"/app/cases/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a case link")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_filters_by_the_analyst_rule_that_hit_a_declaration() {
    let s = start().await;
    // RF-1 and RF-2 hit (the same rule twice on RF-2); RF-3 by RULE-B only.
    record_rule_hits(&s, &["RF-1"], &["RULE-A"], 0.97);
    record_rule_hits(&s, &["RF-2"], &["RULE-A", "RULE-B", "RULE-A"], 0.96);
    record_rule_hits(&s, &["RF-3"], &["RULE-B"], 0.95);
    let mut officer = Browser::new(&s.base);
    officer.sign_in("officer.one").await;

    // --- the form has the control and keeps its value
    let q = officer.get("/app/queue?rule=RULE-A").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    assert!(
        q.body.contains("name=\"rule\" value=\"RULE-A\""),
        "{}",
        q.body
    );
    let listed = |body: &str, id: &str| body.contains(&format!("href=\"/app/cases/{id}\""));
    assert!(listed(&q.body, "RF-1") && listed(&q.body, "RF-2"));
    assert!(!listed(&q.body, "RF-3"), "RF-3 was not hit by RULE-A");
    assert!(q.body.contains("2 declarations match"), "{}", q.body);
    // Declarations no rule hit (the start batch) are not listed.
    assert_eq!(q.body.matches("href=\"/app/cases/").count(), 2);

    // --- a case page links each analyst rule that hit it to the queue filtered by it
    let case = officer.get("/app/cases/RF-2").await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    for rule in ["RULE-A", "RULE-B"] {
        assert_eq!(
            case.body
                .matches(&format!("href=\"/app/queue?rule={rule}\""))
                .count(),
            1,
            "{}",
            case.body
        );
    }

    // --- combined with another filter
    let q = officer.get("/app/queue?rule=RULE-B&office=999").await;
    assert!(listed(&q.body, "RF-2") && listed(&q.body, "RF-3"));
    assert!(!listed(&q.body, "RF-1"));
    let q = officer.get("/app/queue?rule=NO-SUCH-RULE").await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.body.contains("0 declarations match"), "{}", q.body);

    // --- a newer decision replaces the rules of the older one
    record_rule_hits(&s, &["RF-1"], &["RULE-B"], 0.97);
    let q = officer.get("/app/queue?rule=RULE-A").await;
    assert!(!listed(&q.body, "RF-1") && listed(&q.body, "RF-2"));
    assert!(listed(
        &officer.get("/app/queue?rule=RULE-B").await.body,
        "RF-1"
    ));

    // --- the page links keep the rule filter
    let many: Vec<String> = (0..60).map(|i| format!("RF-MANY-{i:02}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    record_rule_hits(&s, &many, &["RULE-C"], 0.5);
    let q = officer.get("/app/queue?rule=RULE-C").await;
    assert!(q.body.contains("60 declarations match"), "{}", q.body);
    assert!(
        q.body
            .contains("href=\"/app/queue?rule=RULE-C&amp;page=2\""),
        "{}",
        q.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_taken_escalated_reassigned_and_closed_by_one_officer_at_a_time() {
    let s = start().await;
    let mut one = Browser::new(&s.base);
    one.sign_in("officer.one").await;
    let mut two = Browser::new(&s.base);
    two.sign_in("officer.two").await;
    let q = one.get("/app/queue?lane=red&case=pending").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let id = first_case(&q.body);
    let case = format!("/app/cases/{id}");

    // --- pending: a take form, no decision form yet; a take needs the session's token
    let page = one.get(&case).await;
    assert!(
        page.body.contains("State: <strong>pending</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("action=\"{case}/take\"")));
    assert!(!page.body.contains("id=\"decision-form\""));
    assert_eq!(
        one.post_form(&format!("{case}/take"), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = page.csrf().expect("csrf");
    let taken = one
        .post_form(&format!("{case}/take"), &[("csrf", &csrf)])
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    assert_eq!(taken.location.as_deref(), Some(case.as_str()));
    let page = one.get(&case).await;
    assert!(
        page.body.contains("in inspection")
            && page.body.contains("held by <strong>officer.one</strong>")
    );
    assert!(
        page.body.contains("id=\"decision-form\""),
        "the holder records the outcome"
    );

    // --- a second officer sees who holds it, has no decision form, and is refused
    let other = two.get(&case).await;
    assert!(
        other.body.contains("held by officer.one")
            || other.body.contains("held by <strong>officer.one</strong>")
    );
    assert!(!other.body.contains("id=\"decision-form\""));
    let csrf2 = other.csrf().expect("csrf");
    let refused = two
        .post_form(&format!("{case}/take"), &[("csrf", &csrf2)])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("already held by officer.one"),
        "{}",
        refused.body
    );
    let refused = two
        .post_form(
            &format!("{case}/close"),
            &[
                ("csrf", &csrf2),
                ("decision", "inspect"),
                ("finding", "none"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    // The queue filters by case state.
    let held = one.get("/app/queue?case=in_inspection").await;
    assert!(
        held.body.contains(&format!("href=\"{case}\"")),
        "{}",
        held.body
    );
    assert!(!one
        .get("/app/queue?case=pending")
        .await
        .body
        .contains(&format!("href=\"{case}\"")));

    // --- escalate (a note is required); an officer cannot reassign
    let empty = one
        .post_form(
            &format!("{case}/escalate"),
            &[("csrf", &csrf), ("note", " ")],
        )
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.body
    );
    let esc = one
        .post_form(
            &format!("{case}/escalate"),
            &[
                ("csrf", &csrf),
                ("note", "valuation evidence needs a supervisor"),
            ],
        )
        .await;
    assert_eq!(esc.status, StatusCode::SEE_OTHER, "{}", esc.body);
    let page = one.get(&case).await;
    assert!(page.body.contains("escalated to a supervisor"));
    assert!(page.body.contains("valuation evidence needs a supervisor"));
    assert_eq!(
        one.post_form(
            &format!("{case}/reassign"),
            &[("csrf", &csrf), ("to", "officer.two")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // --- a supervisor reassigns it, only to an active officer
    let mut sup = Browser::new(&s.base);
    sup.sign_in("supervisor.one").await;
    let sp = sup.get(&case).await;
    assert!(sp.body.contains(&format!("action=\"{case}/reassign\"")));
    let scsrf = sp.csrf().expect("csrf");
    let bad = sup
        .post_form(
            &format!("{case}/reassign"),
            &[("csrf", &scsrf), ("to", "trader.one")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let moved = sup
        .post_form(
            &format!("{case}/reassign"),
            &[("csrf", &scsrf), ("to", "officer.two")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert!(!one.get(&case).await.body.contains("id=\"decision-form\""));
    let page = two.get(&case).await;
    assert!(page.body.contains("held by <strong>officer.two</strong>"));
    assert!(page.body.contains("id=\"decision-form\""));

    // --- the decision form: bad values are refused, then the outcome is recorded
    let bad = two
        .post_form(
            &format!("{case}/close"),
            &[
                ("csrf", &csrf2),
                ("decision", "release"),
                ("finding", "fraud"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let bad = two
        .post_form(
            &format!("{case}/close"),
            &[
                ("csrf", &csrf2),
                ("decision", "inspect"),
                ("finding", "none"),
                ("amount_recovered", "-3"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let closed = two
        .post_form(
            &format!("{case}/close"),
            &[
                ("csrf", &csrf2),
                ("decision", "inspect"),
                ("finding", "critical"),
                ("amount_recovered", "1200.50"),
                ("note", "undervalued invoice"),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let page = two.get(&case).await;
    assert!(page.body.contains("outcome recorded"), "{}", page.body);
    assert!(!page.body.contains("id=\"decision-form\""));
    let again = one
        .post_form(&format!("{case}/take"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // --- the outcome is feedback (for retraining), recorded in the acting officer's name
    let fb = borderline_governance::FeedbackLog::new(s.store.as_ref())
        .latest(None)
        .expect("feedback");
    let o = &fb
        .iter()
        .find(|r| r.outcome.declaration_id == id)
        .expect("recorded")
        .outcome;
    assert!(o.fraud);
    assert_eq!(o.critical_level, 2);
    assert_eq!(o.amount_recovered, Some(1200.5));
    assert_eq!(o.decision, "inspected");
    assert_eq!(o.note.as_deref(), Some("undervalued invoice"));
    assert_eq!(o.reported_officer, "officer.two");

    // --- every transition is on the audit page with its authenticated actor
    let mut auditor = Browser::new(&s.base);
    auditor.sign_in("auditor.one").await;
    let a = auditor.get("/app/audit").await;
    assert!(a.body.contains("Chain verified."), "{}", a.body);
    let rows: Vec<&str> = a.body.split("<tr>").collect();
    for (action, actor) in [
        ("case.take", "officer.one"),
        ("case.escalate", "officer.one"),
        ("case.reassign", "supervisor.one"),
        ("feedback.record", "officer.two"),
        ("case.close", "officer.two"),
    ] {
        assert!(
            rows.iter().any(|r| r.contains(&format!("{action} {id}"))
                && r.contains(&format!("<td>{actor}</td>"))),
            "no audit row {action} by {actor}"
        );
    }

    // --- the counterfactual section is there for officers (traders cannot open a case)
    assert!(page.body.contains("What would have changed the lane"));
    // The ranked batch's inputs were stored with their decisions and the deciding model is
    // active: the page rescored this declaration.
    assert!(!page.body.contains("was not stored"), "{}", page.body);
    assert!(!page.body.contains("Rescoring with another model"));
    assert!(
        page.body.contains("id=\"cf-rescored\"")
            || page.body.contains("No change among")
            || page.body.contains("is already under"),
        "{}",
        page.body
    );
    let mut trader = Browser::new(&s.base);
    trader.sign_in("trader.one").await;
    assert_eq!(trader.get(&case).await.status, StatusCode::FORBIDDEN);
}

/// The case page's evidence: the declared unit value on its benchmark cell's distribution,
/// the declared HS code against the classifier's suggestions for the description, and the
/// importer's history from the decision index and the feedback log (updated by an outcome).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_page_shows_value_position_hs_suggestions_and_importer_history() {
    let s = start().await;
    let mut officer = Browser::new(&s.base);
    officer.sign_in("officer.one").await;
    let d = &s.ranked[0];
    let case = format!("/app/cases/{}", d.declaration_id);
    let page = officer.get(&case).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;

    // --- valuation: the declared unit value (value / mass) is drawn on the cell's quantiles
    assert!(body.contains("Declared value against the benchmarks"));
    assert!(body.contains("<svg class=\"chart position\""), "{body}");
    let unit_value = d.customs_value.expect("value") / d.net_mass_kg.expect("mass");
    // Drawn with the one amount rule of reasons and pages (tested in borderline-core).
    let shown = borderline_core::amount_shown(unit_value);
    assert!(
        body.contains(&format!("declared {shown}")),
        "declared {shown} not drawn: {body}"
    );
    assert!(body.contains("th percentile of"), "{body}");
    assert!(!body.contains("started without valuation benchmarks"));

    // --- HS: the declared code against suggested codes, with confidence, as bars and a table
    assert!(body.contains("Declared HS code against the goods description"));
    assert!(
        body.contains(&format!("Declared <strong>{}</strong>", d.hs_code)),
        "{body}"
    );
    assert!(body.contains("<svg class=\"chart bars\""), "{body}");
    assert!(body.contains("Suggested code"));
    // A converter description suggests chapter 85 codes.
    assert!(body.contains("<td>8504"), "{body}");

    // --- the importer's history: every ranked declaration of the importer is counted
    let same: Vec<&borderline_core::Declaration> = s
        .ranked
        .iter()
        .filter(|x| x.importer == d.importer)
        .collect();
    assert!(
        body.contains(&format!("History of importer {}", s.importer)),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "{} declarations with a recorded decision",
            same.len()
        )),
        "{body}"
    );
    assert!(body.contains("0 inspection outcomes recorded"), "{body}");
    // Outcomes recorded behind the page's back: one of the importer's declarations (recorded
    // twice, the correction counts) and one of another importer's (never shown here).
    let other = s
        .ranked
        .iter()
        .find(|x| x.importer != d.importer)
        .expect("another importer's declaration");
    let outcome = |id: &str, fraud: bool| borderline_governance::feedback::Outcome {
        declaration_id: id.to_string(),
        decided_on: d.date,
        decision: "inspected".into(),
        fraud,
        critical_level: u8::from(fraud),
        amount_recovered: None,
        note: None,
        reported_officer: "officer.one".into(),
    };
    let fb = borderline_governance::feedback::FeedbackLog::new(s.store.as_ref());
    fb.record_all(
        &[
            outcome(same[same.len() - 1].declaration_id.as_str(), false),
            outcome(same[same.len() - 1].declaration_id.as_str(), true),
            outcome(other.declaration_id.as_str(), true),
        ],
        &s.admin.actor,
    )
    .expect("outcomes");
    let again = officer.get(&case).await.body;
    assert!(
        again.contains("1 inspection outcomes recorded, 1 with fraud"),
        "{again}"
    );

    // --- parties: each role named from the directory and screened, word by word; the
    // importer's owner bears a listed name, so a two-link path reaches the list, drawn
    assert!(body.contains("Parties against the watchlists"), "{body}");
    assert!(body.contains("Harbour Lights Ceramics Co"), "{body}");
    assert!(
        body.contains("not in the directory (not screened)"),
        "the declarant is not in the directory: {body}"
    );
    // The seller's name matches the listed company word for word: the hit names the entry
    // and its list, and the token table shows each word's match.
    let listed_words: Vec<&str> = s.listed_for_seller.split_whitespace().collect();
    assert!(
        body.contains(&format!(
            "<strong>{}</strong> on ofac_sdn",
            s.listed_for_seller
        )),
        "{body}"
    );
    assert!(body.contains("<th>Party's word</th>"), "{body}");
    assert!(
        body.contains(&format!(
            "<td>{}</td><td>{}</td><td>same word</td>",
            listed_words[0].to_lowercase(),
            listed_words[0].to_lowercase()
        )),
        "{body}"
    );
    // Paths: the owner's name (two links) and the seller's name (one link), drawn as graphs.
    assert!(body.contains("<svg class=\"chart network\""), "{body}");
    assert!(
        body.contains(&format!("importer {} --owner--&gt; OWNER1", d.importer)),
        "{body}"
    );
    assert!(
        body.contains(&format!("—name_match→ {} (listed: ofac_sdn:", s.listed)),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "--name_match--&gt; {} [listed: ofac_sdn:",
            s.listed_for_seller
        )),
        "{body}"
    );

    // --- a green declaration has no recorded reason; it is explained on demand
    let green = first_case(&officer.get("/app/queue?lane=green").await.body);
    let g = officer.get(&format!("/app/cases/{green}")).await.body;
    assert!(g.contains("No reason was recorded"), "{g}");
    assert!(g.contains("Explain this declaration"), "{g}");
    assert!(!g.contains("Explanation computed on demand"), "{g}");
    let x = officer
        .get(&format!("/app/cases/{green}?explain=1"))
        .await
        .body;
    assert!(x.contains("Explanation computed on demand"), "{x}");
    assert!(x.contains("Exact contributions (TreeSHAP)"), "{x}");
    assert!(x.contains("log-odds)"), "{x}");
    assert!(x.contains("<svg class=\"chart waterfall\""), "{x}");

    // A declaration without a description says so instead of suggesting codes.
    let plain = &s.ranked[1];
    let p = officer
        .get(&format!("/app/cases/{}", plain.declaration_id))
        .await;
    assert!(
        p.body.contains("carries no goods description"),
        "{}",
        p.body
    );

    // --- an outcome recorded on the case shows in the importer's history
    let csrf = page.csrf().expect("csrf");
    let t = officer
        .post_form(&format!("{case}/take"), &[("csrf", &csrf)])
        .await;
    assert_eq!(t.status, StatusCode::SEE_OTHER, "{}", t.body);
    let c = officer
        .post_form(
            &format!("{case}/close"),
            &[
                ("csrf", &csrf),
                ("decision", "inspect"),
                ("finding", "fraud"),
                ("amount_recovered", "310"),
            ],
        )
        .await;
    assert_eq!(c.status, StatusCode::SEE_OTHER, "{}", c.body);
    let after = officer.get(&case).await.body;
    assert!(
        after.contains("1 inspection outcomes recorded, 1 with fraud, 310.00 recovered"),
        "{after}"
    );
    assert!(after.contains("1 outcome recorded"), "{after}");

    // --- a trader never sees it (the case page is not theirs to read)
    let mut trader = Browser::new(&s.base);
    trader.sign_in("trader.one").await;
    assert_eq!(trader.get(&case).await.status, StatusCode::FORBIDDEN);
}

/// The monitoring page: for supervisors, analysts and auditors (not officers or traders); the
/// drift of a recent file against a reference file under the active model, drawn as the score
/// distribution's bins and each feature's PSI; and the hit rates of recorded outcomes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_page_draws_drift_and_hit_rates() {
    let s = start().await;
    for (account, status) in [
        ("officer.one", StatusCode::FORBIDDEN),
        ("trader.one", StatusCode::FORBIDDEN),
        ("analyst.one", StatusCode::OK),
        ("auditor.one", StatusCode::OK),
    ] {
        let mut b = Browser::new(&s.base);
        b.sign_in(account).await;
        assert_eq!(b.get("/app/monitoring").await.status, status, "{account}");
        let home = b.get("/app").await.body;
        assert_eq!(
            home.contains("href=\"/app/monitoring\""),
            status == StatusCode::OK,
            "{account}'s navigation"
        );
    }
    let mut sup = Browser::new(&s.base);
    sup.sign_in("supervisor.one").await;
    let page = sup.get("/app/monitoring").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No inspection outcome is recorded yet"));
    let csrf = page.csrf().expect("csrf");

    // --- the same file twice: no drift at all
    let reference = common::generic_csv(&s.ranked, 1.0);
    let same = sup
        .post_files(
            "/app/monitoring",
            &csrf,
            &[("reference", &reference), ("recent", &reference)],
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    assert!(
        same.body
            .contains("PSI of the score <strong>0.000</strong>: stable"),
        "{}",
        same.body
    );
    assert!(same.body.contains("<svg class=\"chart columns\""));
    assert!(same
        .body
        .contains("No feature beyond the warning threshold."));
    assert!(same.body.contains(&format!(
        "{n} reference and {n} recent declarations",
        n = s.ranked.len()
    )));

    // --- every customs value twenty times higher: the value features drift
    let shifted = common::generic_csv(&s.ranked, 20.0);
    let moved = sup
        .post_files(
            "/app/monitoring",
            &csrf,
            &[("reference", &reference), ("recent", &shifted)],
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert!(moved.body.contains("major shift"), "{}", moved.body);
    assert!(moved.body.contains("class=\"bar highlight\""));

    // --- no token, no run; a missing file is named
    assert_eq!(
        sup.post_files(
            "/app/monitoring",
            "wrong",
            &[("reference", &reference), ("recent", &reference)]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let missing = sup
        .post_files("/app/monitoring", &csrf, &[("reference", &reference)])
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    assert!(missing.body.contains("recent"), "{}", missing.body);

    // --- an outcome recorded by an officer appears in the hit rates
    let mut officer = Browser::new(&s.base);
    officer.sign_in("officer.one").await;
    let case = format!("/app/cases/{}", s.ranked[2].declaration_id);
    let csrf_o = officer.get(&case).await.csrf().expect("csrf");
    officer
        .post_form(&format!("{case}/take"), &[("csrf", &csrf_o)])
        .await;
    let closed = officer
        .post_form(
            &format!("{case}/close"),
            &[
                ("csrf", &csrf_o),
                ("decision", "inspect"),
                ("finding", "fraud"),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let rates = sup.get("/app/monitoring").await.body;
    assert!(rates.contains("all (1 of 1)"), "{rates}");
    assert!(rates.contains("<td>100.0%</td>"), "{rates}");
}

/// The model card's charts (precision at capacity, the recorded decisions' score distribution,
/// the calibration table from recorded outcomes) and the roll-back form: supervisors only,
/// refused when nothing was replaced, and returning to the replaced model after an activation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_card_charts_and_roll_back() {
    let s = start().await;
    let mut sup = Browser::new(&s.base);
    sup.sign_in("supervisor.one").await;
    let page = sup.get("/app/models").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Precision at inspection capacity"));
    assert!(
        page.body.contains(&format!(
            "Score distribution of its {} recorded decisions",
            s.ranked.len()
        )),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("No decision recorded with this model yet"));
    assert!(page
        .body
        .contains("No outcome is recorded for its decisions yet."));
    assert!(page.body.contains("id=\"rollback\""));
    let csrf = page.csrf().expect("csrf");

    // --- analysts read model cards but cannot roll back
    let mut analyst = Browser::new(&s.base);
    analyst.sign_in("analyst.one").await;
    let a = analyst.get("/app/models").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("id=\"rollback\""));
    let a_csrf = a.csrf().expect("csrf");
    assert_eq!(
        analyst
            .post_form(
                "/app/models/rollback",
                &[("csrf", &a_csrf), ("reason", "x")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // --- an outcome fills the calibration table of the model that decided
    let mut officer = Browser::new(&s.base);
    officer.sign_in("officer.one").await;
    let case = format!("/app/cases/{}", s.ranked[3].declaration_id);
    let o_csrf = officer.get(&case).await.csrf().expect("csrf");
    officer
        .post_form(&format!("{case}/take"), &[("csrf", &o_csrf)])
        .await;
    let closed = officer
        .post_form(
            &format!("{case}/close"),
            &[
                ("csrf", &o_csrf),
                ("decision", "inspect"),
                ("finding", "fraud"),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let page = sup.get("/app/models").await.body;
    assert!(page.contains("(1 with a recorded outcome)"), "{page}");
    assert!(page.contains("100.0% (1 of 1)"), "{page}");

    // --- nothing replaced yet: the registry refuses the roll-back, in its words
    let refused = sup
        .post_form(
            "/app/models/rollback",
            &[("csrf", &csrf), ("reason", "scores look off")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("nothing to roll back to"),
        "{}",
        refused.body
    );
    assert_eq!(
        sup.post_form("/app/models/rollback", &[("reason", "no token")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // --- approve and activate the draft, then roll back to the first model
    let draft = &s.draft_version;
    let first = borderline_app::governance::models::list(s.store.as_ref())
        .expect("list")
        .into_iter()
        .find(|m| m.state.as_str() == "active")
        .expect("an active model")
        .model
        .version;
    for (path, fields) in [
        (
            format!("/app/models/{draft}/approve"),
            vec![("csrf", csrf.as_str()), ("reason", "validated")],
        ),
        (
            format!("/app/models/{draft}/activate"),
            vec![("csrf", csrf.as_str())],
        ),
        (
            "/app/models/rollback".to_string(),
            vec![("csrf", csrf.as_str()), ("reason", "scores look off")],
        ),
    ] {
        let r = sup.post_form(&path, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    let models = borderline_app::governance::models::list(s.store.as_ref()).expect("list");
    let state = |v: &str| {
        models
            .iter()
            .find(|m| m.model.version == v)
            .map(|m| m.state.as_str().to_string())
    };
    assert_eq!(state(&first).as_deref(), Some("active"));
    assert_eq!(state(draft).as_deref(), Some("retired"));
    let mut auditor = Browser::new(&s.base);
    auditor.sign_in("auditor.one").await;
    let audit = auditor.get("/app/audit").await.body;
    assert!(
        audit
            .split("<tr>")
            .any(|r| r.contains(&format!("model.rollback {first}"))
                && r.contains("<td>supervisor.one</td>")),
        "{audit}"
    );
}

/// The rules page: a rule file validated with its error's line and column shown in the file,
/// uploaded as a draft, approved by another person only (four-eyes, as `/v1/rules`), activated,
/// and replayed on the recorded declarations: each rule's matches and lanes, beside the active
/// set; nothing recorded by the replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_validated_approved_by_another_person_and_replayed() {
    let s = start().await;
    let mut officer = Browser::new(&s.base);
    officer.sign_in("officer.one").await;
    assert_eq!(
        officer.get("/app/rules").await.status,
        StatusCode::FORBIDDEN
    );

    let mut analyst = Browser::new(&s.base);
    analyst.sign_in("analyst.one").await;
    let page = analyst.get("/app/rules").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No rule set is uploaded"));
    let csrf = page.csrf().expect("csrf");

    // --- an unknown field on line 3: the error names line and column and points at it
    let bad = "# watch\nrule \"w\" priority 5\nwhen origin_land in [\"CN\"]\nthen lane red reason \"watch\"\n";
    let v = analyst
        .post_form("/app/rules/validate", &[("csrf", &csrf), ("source", bad)])
        .await;
    assert_eq!(v.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", v.body);
    assert!(v.body.contains("Line 3, column 6"), "{}", v.body);
    assert!(v.body.contains("unknown field"), "{}", v.body);
    assert!(v.body.contains("   3 | when origin_land"), "{}", v.body);
    assert!(v.body.contains("<strong>     |      ^"), "{}", v.body);

    // --- a valid file: validated (nothing stored), then uploaded as a draft
    let origin = {
        let mut counts = std::collections::BTreeMap::new();
        for d in &s.ranked {
            *counts.entry(d.origin_country.to_string()).or_insert(0usize) += 1;
        }
        counts.into_iter().max_by_key(|(_, n)| *n).expect("origins")
    };
    let good = format!(
        "rule \"origin-watch\" priority 5\nwhen origin in [\"{}\"]\nthen lane yellow reason \"origin under watch\"\n",
        origin.0
    );
    let v = analyst
        .post_form("/app/rules/validate", &[("csrf", &csrf), ("source", &good)])
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert!(
        v.body.contains("Valid: 1 rules (origin-watch)"),
        "{}",
        v.body
    );
    assert!(borderline_app::governance::rules::list(s.store.as_ref())
        .expect("list")
        .is_empty());
    let up = analyst
        .post_form("/app/rules", &[("csrf", &csrf), ("source", &good)])
        .await;
    assert_eq!(up.status, StatusCode::SEE_OTHER, "{}", up.body);
    let version = borderline_app::governance::rules::list(s.store.as_ref()).expect("list")[0]
        .version
        .clone();
    let listed = analyst.get("/app/rules").await.body;
    assert!(
        listed.contains(&format!("<code>{version}</code>")),
        "{listed}"
    );
    assert!(listed.contains("(draft)"));

    // --- the analyst cannot approve; the dual-role author cannot approve their own upload
    let approve = format!("/app/rules/{version}/approve");
    assert_eq!(
        analyst
            .post_form(&approve, &[("csrf", &csrf), ("reason", "fine")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let mut dual = Browser::new(&s.base);
    dual.sign_in("dual.one").await;
    let d_csrf = dual.get("/app/rules").await.csrf().expect("csrf");
    let own = "rule \"own\" when origin in [\"ZZ\"] then lane red reason \"own\"\n";
    assert_eq!(
        dual.post_form("/app/rules", &[("csrf", &d_csrf), ("source", own)])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let own_version = borderline_app::governance::rules::list(s.store.as_ref())
        .expect("list")
        .into_iter()
        .find(|e| e.uploaded_by == "dual.one")
        .expect("dual's upload")
        .version;
    let refused = dual
        .post_form(
            &format!("/app/rules/{own_version}/approve"),
            &[("csrf", &d_csrf), ("reason", "mine")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("four-eyes"), "{}", refused.body);

    // --- a supervisor approves the analyst's set and activates it
    let mut sup = Browser::new(&s.base);
    sup.sign_in("supervisor.one").await;
    let s_csrf = sup.get("/app/rules").await.csrf().expect("csrf");
    let r = sup
        .post_form(
            &approve,
            &[("csrf", &s_csrf), ("reason", "checked on 2021-Q1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = sup
        .post_form(
            &format!("/app/rules/{version}/activate"),
            &[("csrf", &s_csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(sup.get("/app/rules").await.body.contains("(active)"));

    // --- replay on the recorded declarations: the rule matches every declaration of its origin
    let audit_len =
        borderline_app::governance::audit::recent(s.store.as_ref(), 1).expect("recent")[0].seq;
    let replay = sup.get(&format!("/app/rules/{own_version}/replay")).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert!(
        replay
            .body
            .contains(&format!("{} declarations replayed", s.ranked.len())),
        "{}",
        replay.body
    );
    let replay = analyst.get(&format!("/app/rules/{version}/replay")).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    let row = replay
        .body
        .split("<tr>")
        .find(|r| r.contains("<td>origin-watch</td>"))
        .expect("the rule's row");
    assert!(
        row.contains(&format!("<td>{}</td>", origin.1)),
        "{} declarations of origin {} matched: {row}",
        origin.1,
        origin.0
    );
    assert!(replay.body.contains("<svg class=\"chart columns\""));
    let dated = analyst
        .get(&format!(
            "/app/rules/{version}/replay?from=2000-01-01&to=2000-01-02"
        ))
        .await;
    assert!(
        dated.body.contains("0 declarations replayed"),
        "{}",
        dated.body
    );
    assert_eq!(
        analyst
            .get(&format!("/app/rules/{version}/replay?from=soon"))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        borderline_app::governance::audit::recent(s.store.as_ref(), 1).expect("recent")[0].seq,
        audit_len,
        "a replay records nothing"
    );

    // --- auditors read rule sets, but replays are for who writes or approves them
    let mut auditor = Browser::new(&s.base);
    auditor.sign_in("auditor.one").await;
    assert_eq!(auditor.get("/app/rules").await.status, StatusCode::OK);
    assert_eq!(
        auditor
            .get(&format!("/app/rules/{version}/replay"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The audit page's filters (actor, action or its prefix, recording dates), the CSV export of
/// the same selection, and the chain status; auditors and supervisors only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_page_filters_and_exports_csv() {
    let s = start().await;
    // Cases worked by two officers, so that filters have something to tell apart.
    for (officer, d) in [("officer.one", &s.ranked[0]), ("officer.two", &s.ranked[1])] {
        let mut b = Browser::new(&s.base);
        b.sign_in(officer).await;
        let case = format!("/app/cases/{}", d.declaration_id);
        let csrf = b.get(&case).await.csrf().expect("csrf");
        let r = b
            .post_form(&format!("{case}/take"), &[("csrf", &csrf)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let mut officer = Browser::new(&s.base);
    officer.sign_in("officer.one").await;
    assert_eq!(
        officer.get("/app/audit/export.csv").await.status,
        StatusCode::FORBIDDEN
    );

    let mut auditor = Browser::new(&s.base);
    auditor.sign_in("auditor.one").await;
    let all = auditor.get("/app/audit").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert!(all.body.contains("Chain verified."));
    // The witness file's checkpoint (signed when the batch was ranked) still holds.
    assert!(
        all.body.contains(&format!(
            "Signed checkpoints: 1 checked; the chain is verified up to record {} by a signed checkpoint.",
            s.checkpointed
        )),
        "{}",
        all.body
    );

    let page = auditor
        .get("/app/audit?actor=officer.one&action=case.")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("1 records match"), "{}", page.body);
    assert!(page
        .body
        .contains(&format!("case.take {}", s.ranked[0].declaration_id)));
    assert!(!page
        .body
        .contains(&format!("case.take {}", s.ranked[1].declaration_id)));
    assert!(page
        .body
        .contains("href=\"/app/audit/export.csv?actor=officer.one&amp;action=case.\""));

    // Decisions by the officer who ranked the batch: one per declaration.
    let decisions = auditor
        .get("/app/audit?actor=OFFICER.ONE&action=decision")
        .await;
    assert!(
        decisions
            .body
            .contains(&format!("{} records match", s.ranked.len())),
        "{}",
        decisions.body
    );
    // Nothing was recorded before 2000, and everything today.
    let today = chrono::Utc::now().date_naive();
    assert!(auditor
        .get("/app/audit?to=1999-12-31")
        .await
        .body
        .contains("0 records match"));
    assert_eq!(
        auditor.get("/app/audit?from=yesterday").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // --- the CSV export holds exactly the filtered records
    let csv = auditor
        .get(&format!("/app/audit/export.csv?action=case.&from={today}"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "seq,recorded_at,user,action,subject,lane,hash");
    assert_eq!(lines.len(), 3, "{}", csv.body);
    for (line, (officer, d)) in lines[1..]
        .iter()
        .zip([("officer.one", &s.ranked[0]), ("officer.two", &s.ranked[1])])
    {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[2], officer, "{line}");
        assert_eq!(cells[3], "case.take", "{line}");
        assert_eq!(cells[4], d.declaration_id.as_str(), "{line}");
        assert_eq!(cells[6].len(), 64, "a SHA-256 hex hash: {line}");
    }
}

/// The trader's self-check: its declaration's unit value on the benchmark distribution (only
/// for a cell that at least five importers made), its counterparties screened word by word
/// with forced-labour region flags, bad counterparty rows refused by line and field, and the
/// whole report downloaded as JSON; still no score, lane or model reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trader_self_check_compares_value_screens_counterparties_and_downloads_the_report() {
    use borderline_app::selfcheck::MIN_DISTINCT_IMPORTERS;
    use borderline_valuation::CheckOutcome;
    let s = start().await;
    // A declaration whose benchmark cell is shown to traders, filed as the trader's importer.
    let shown = s
        .ranked
        .iter()
        .find(|d| {
            let c = s.benchmarks.check(d);
            c.outcome == CheckOutcome::Checked
                && c.cell
                    .is_some_and(|cell| cell.importers >= MIN_DISTINCT_IMPORTERS)
        })
        .expect("a declaration in a cell of five or more importers");
    let check = s.benchmarks.check(shown);
    let cell = check.cell.expect("cell");
    let mine = generic_csv(std::slice::from_ref(shown), 1.0).replace(
        &format!(",{},", shown.importer),
        &format!(",{},", s.importer),
    );
    let id = shown.declaration_id.to_string();
    let counterparties = format!(
        "declaration_id,name,country,address\n\
         {id},Rosneft Trading SA,CH,\n\
         {id},Kashgar Cotton Weaving Co,CN,\"No. 8 Industrial Road, Kashgar, Xinjiang\"\n\
         {id},,CN,\n"
    );
    let mut trader = Browser::new(&s.base);
    trader.sign_in("trader.one").await;
    let csrf = trader.get("/app/self-check").await.csrf().expect("csrf");
    let files = [
        ("file", mine.as_str()),
        ("counterparties", counterparties.as_str()),
    ];
    let r = trader
        .post_fields_and_files("/app/self-check", &csrf, &[("format", "page")], &files)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = &r.body;
    // Valuation: the percentile and the cell's declarations and importers, drawn.
    assert!(
        body.contains(&format!(
            "th percentile of {} declarations by {} importers",
            cell.n, cell.importers
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!("<strong>{:.0}</strong>", check.percentile)),
        "{body}"
    );
    assert!(body.contains("<svg class=\"chart position\""), "{body}");
    // Counterparties: the listed company matched word by word; the Xinjiang address flagged.
    assert!(
        body.contains("<strong>Rosneft Trading SA</strong>"),
        "{body}"
    );
    assert!(body.contains("<th>Party's word</th>"), "{body}");
    assert!(
        body.contains("<td>rosneft</td><td>rosneft</td><td>same word</td>"),
        "{body}"
    );
    assert!(body.contains("UFLPA"), "{body}");
    // The nameless counterparty row is refused with its line and field.
    assert!(
        body.contains("Line 4, counterparties: name: empty"),
        "{body}"
    );
    for leak in ["class=\"lane", "Calibrated risk", "log-odds", "Risk model"] {
        assert!(!body.contains(leak), "self-check shows {leak:?}");
    }

    // The same upload as a JSON report.
    let j = trader
        .post_fields_and_files("/app/self-check", &csrf, &[("format", "json")], &files)
        .await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.body);
    let v: serde_json::Value = serde_json::from_str(&j.body).expect("a JSON report");
    let c = &v["checks"][0];
    assert_eq!(c["declaration_id"], id.as_str());
    assert_eq!(c["valuation"]["status"], "compared", "{c}");
    assert_eq!(c["valuation"]["importers"], cell.importers);
    assert!(c.get("lane").is_none() && c.get("score").is_none(), "{c}");
    let parties = c["counterparties"].as_array().expect("counterparties");
    assert_eq!(parties.len(), 2, "{c}");
    assert!(!parties[0]["hits"].as_array().expect("hits").is_empty());
    assert!(parties[1]["region"]
        .as_str()
        .is_some_and(|r| r.contains("Kashgar")));
    assert_eq!(v["refused"][0]["line"], 4);
}
