//! Browser sessions: a random id in an HttpOnly, SameSite=Strict cookie, the signed-in principal
//! and a synchronizer CSRF token kept server-side in memory.
//!
//! Why in memory: a session is a short-lived bearer of an authenticated principal; keeping it
//! out of the store means no session secret at rest and no write per page view, and a restart
//! only asks people to sign in again. A deployment with several server processes behind one
//! address would need the sessions in the store instead.

use borderline_governance::identity::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The cookie's name.
pub const COOKIE: &str = "borderline_session";

/// A session idle longer than this is gone; one older than [`MAX_AGE`] too.
const IDLE: Duration = Duration::from_secs(30 * 60);
const MAX_AGE: Duration = Duration::from_secs(8 * 60 * 60);
/// Bound on sessions held (anonymous sign-in forms included), so a flood of page views
/// cannot exhaust memory: the oldest are dropped first.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Session {
    /// `None` before sign-in: the sign-in form's CSRF token lives in an anonymous session.
    pub principal: Option<Principal>,
    pub csrf: String,
    created: Instant,
    seen: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the operating system's random number generator failed: {0}")]
    Rng(String),
}

/// The server's sessions.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes from the OS RNG as hex.
fn random_hex() -> Result<String, SessionError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| SessionError::Rng(e.to_string()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

impl Sessions {
    /// Starts a session (anonymous or signed in); returns its id.
    pub fn start(&self, principal: Option<Principal>) -> Result<(String, Session), SessionError> {
        let id = random_hex()?;
        let now = Instant::now();
        let s = Session {
            principal,
            csrf: random_hex()?,
            created: now,
            seen: now,
        };
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| live(s, now));
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.seen)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), s.clone());
        Ok((id, s))
    }

    /// The live session with this id, touched.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(id) {
            Some(s) if live(s, now) => {
                s.seen = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.seen) < IDLE && now.duration_since(s.created) < MAX_AGE
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The `Set-Cookie` value for a session id (`Secure` when the server is reached over TLS).
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// The session id from a `Cookie` header.
pub fn cookie_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}
