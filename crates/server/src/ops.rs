//! Operational layers: a request id and a tracing span per request (method, route, request id,
//! and the actor once authenticated; never bodies, passwords or tokens), a timeout answered
//! with a problem body, Prometheus counters, and a per-token rate limit (token bucket).

use crate::problem::ApiError;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served (in problem bodies).
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn new_request_id() -> String {
    // Process start time in the id keeps ids distinct across restarts in one log.
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| chrono::Utc::now().timestamp_millis().unsigned_abs());
    format!("{start:x}-{:06}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// Request id, span, timeout and metrics around every request.
pub async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let id = new_request_id();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        actor = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let timeout = state.config.request_timeout;
    let fut = REQUEST_ID.scope(id.clone(), async move {
        match tokio::time::timeout(timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!("the request took longer than {} ms", timeout.as_millis()),
            )
            .into_response(),
        }
    });
    let mut resp = tracing::Instrument::instrument(fut, span.clone()).await;
    let status = resp.status().as_u16();
    span.record("status", status);
    span.in_scope(|| tracing::info!(elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "served"));
    state
        .metrics
        .observe(&format!("{method} {route}"), status, started.elapsed());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Request counters and durations for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<BTreeMap<(String, u16), (u64, f64)>>,
}

impl Metrics {
    fn observe(&self, route: &str, status: u16, took: Duration) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry((route.to_string(), status)).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += took.as_secs_f64();
    }

    /// Prometheus text exposition format (0.0.4), with the service's active model and the
    /// number of names its watchlist matcher has screened.
    pub fn render(&self, active_model: Option<&str>, watchlist_queries: u64) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP borderline_http_requests_total HTTP requests served, by route and status.\n# TYPE borderline_http_requests_total counter\n");
        for ((route, status), (n, _)) in m.iter() {
            out.push_str(&format!(
                "borderline_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}\n",
                escape(route)
            ));
        }
        out.push_str("# HELP borderline_http_request_duration_seconds_sum Time spent serving requests, by route and status.\n# TYPE borderline_http_request_duration_seconds_sum counter\n");
        for ((route, status), (_, s)) in m.iter() {
            out.push_str(&format!(
                "borderline_http_request_duration_seconds_sum{{route=\"{}\",status=\"{status}\"}} {s}\n",
                escape(route)
            ));
        }
        out.push_str("# HELP borderline_active_model The model the service scores with (1 when one is active).\n# TYPE borderline_active_model gauge\n");
        match active_model {
            Some(v) => out.push_str(&format!(
                "borderline_active_model{{version=\"{}\"}} 1\n",
                escape(v)
            )),
            None => out.push_str("borderline_active_model{version=\"\"} 0\n"),
        }
        out.push_str("# HELP borderline_watchlist_queries_total Names screened against the watchlists (the party directory once at start, screening and match requests).\n# TYPE borderline_watchlist_queries_total counter\n");
        out.push_str(&format!(
            "borderline_watchlist_queries_total {watchlist_queries}\n"
        ));
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A token bucket per API token: `burst` requests at once, refilled at `per_second`.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter {
            per_second: per_second.max(0.001),
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket, or says in how many seconds one is available.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() > 100_000 {
            // Forget idle buckets rather than grow without bound.
            b.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 600);
        }
        let (tokens, at) = b.entry(key.to_string()).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}
