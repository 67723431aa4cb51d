//! The web application over HTTP against the real server: sign-in and sessions, CSRF, the
//! permission matrix on pages, the queue and case page, four-eyes on the registry page, the
//! audit page, and the trader's self-check seeing only its own importer.

mod common;

use common::{start, Browser};
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
