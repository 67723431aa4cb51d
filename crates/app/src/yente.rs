//! Party screening in the request and response shape of OpenSanctions yente's
//! `POST /match/{dataset}`, so that clients written for yente work unchanged: queries keyed by
//! the caller's ids, each with a `schema` and FollowTheMoney-style `properties` (lists of
//! strings); results with `score`, `match` and per-feature explanations.

use crate::screening::{screen_party, Party};
use crate::{AppError, Result};
use borderline_screening::{Hit, Matcher};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One yente query: `{"schema": "Company", "properties": {"name": ["..."], "country": ["ru"]}}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EntityQuery {
    pub schema: String,
    #[serde(default)]
    pub properties: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MatchRequest {
    pub queries: BTreeMap<String, EntityQuery>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Total {
    pub value: usize,
    pub relation: &'static str,
}

/// One matched list entry, as yente returns it.
#[derive(Debug, Clone, Serialize)]
pub struct MatchResult {
    pub id: String,
    pub caption: String,
    pub schema: String,
    pub properties: BTreeMap<String, Vec<String>>,
    pub datasets: Vec<String>,
    pub score: f64,
    #[serde(rename = "match")]
    pub is_match: bool,
    /// Per-feature scores (yente's `features`).
    pub features: BTreeMap<String, f64>,
    /// Which tokens matched and what did not, in words.
    pub explanation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueryResponse {
    pub status: u16,
    pub results: Vec<MatchResult>,
    pub total: Total,
    pub query: EntityQuery,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatchResponse {
    pub responses: BTreeMap<String, QueryResponse>,
    pub limit: usize,
}

/// Most queries in one request (yente's own batch limit is of this order).
pub const MAX_QUERIES: usize = 100;

fn first(props: &BTreeMap<String, Vec<String>>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .filter_map(|k| props.get(*k))
        .flatten()
        .find(|v| !v.trim().is_empty())
        .cloned()
}

fn party(q: &EntityQuery) -> Party {
    let p = &q.properties;
    Party {
        id: None,
        name: first(p, &["name", "alias", "weakAlias"]).unwrap_or_default(),
        schema: Some(q.schema.to_ascii_lowercase()).filter(|s| s != "thing" && s != "legalentity"),
        country: first(
            p,
            &["country", "jurisdiction", "nationality", "citizenship"],
        ),
        address: first(p, &["address"]),
        birth_date: first(p, &["birthDate"]),
    }
}

fn result(h: Hit) -> MatchResult {
    let mut properties = BTreeMap::new();
    properties.insert("name".to_string(), vec![h.entry_name.clone()]);
    if !h.countries.is_empty() {
        properties.insert("country".to_string(), h.countries.clone());
    }
    if !h.programs.is_empty() {
        properties.insert("program".to_string(), h.programs.clone());
    }
    let mut features = BTreeMap::new();
    features.insert("name_score".to_string(), h.explanation.name_score);
    features.insert("rule_score".to_string(), h.explanation.rule_score);
    MatchResult {
        id: h.entry_id.clone(),
        caption: h.entry_name.clone(),
        schema: format!("{:?}", h.schema),
        properties,
        datasets: vec![h.list.clone()],
        score: h.score,
        is_match: true,
        features,
        explanation: h.explanation.summary(),
        // (the matcher returns only hits at or above its threshold: each is a match)
    }
}

/// Answers a yente `/match` request against the matcher's lists. A query without a name is
/// answered with status 400 inside the response, as yente does, not by failing the batch.
pub fn match_entities(
    matcher: &Matcher,
    req: &MatchRequest,
    limit: usize,
) -> Result<MatchResponse> {
    if req.queries.len() > MAX_QUERIES {
        return Err(AppError::Field {
            field: "queries".into(),
            problem: format!("at most {MAX_QUERIES} queries per request"),
        });
    }
    let limit = limit.clamp(1, 50);
    let mut responses = BTreeMap::new();
    for (key, q) in &req.queries {
        let p = party(q);
        let (status, results) = if p.name.trim().is_empty() {
            (400, Vec::new())
        } else {
            match screen_party(matcher, &p, limit) {
                Ok(hits) => (200, hits.into_iter().map(result).collect()),
                Err(_) => (400, Vec::new()),
            }
        };
        responses.insert(
            key.clone(),
            QueryResponse {
                status,
                total: Total {
                    value: results.len(),
                    relation: "eq",
                },
                results,
                query: q.clone(),
            },
        );
    }
    Ok(MatchResponse { responses, limit })
}
