//! The storage seam: what the governance domain needs from a store, and nothing of how a store
//! keeps it.
//!
//! The domain rules (model state machine, one active model, rollback, four-eyes, audit chain
//! hashing and verification, feedback consistency) live in [`crate::registry`],
//! [`crate::audit`] and [`crate::feedback`], written once against these traits. A store (SQLite
//! in `borderline-store-sqlite`, PostgreSQL later) only reads and writes records inside a
//! transaction, and must pass [`crate::contract`] (feature `contract`).

use crate::audit::AuditRecord;
use crate::capacity::{LaneUsage, UsageRow};
use crate::cases::{CaseRecord, IndexedDecision, QueueHit, QueueQuery};
use crate::feedback::{FeedbackRecord, Outcome};
use crate::identity::{Account, ApiToken};
use crate::network::{PartyScreening, TradeLink};
use crate::registry::ModelEntry;
use crate::rulebook::RuleSetEntry;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (I/O, lock, constraint); the text is the engine's.
    #[error("governance store: {0}")]
    Backend(String),
    #[error("no governance database at {0}")]
    Missing(String),
    #[error("governance store holds an unreadable record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("governance store has schema version {found}; this build knows version {expected} (upgrade borderline)")]
    Schema { found: i64, expected: i64 },
}

/// A governance store: begins transactions. Shared between threads by a server, hence
/// `Send + Sync`.
pub trait GovernanceStore: Send + Sync {
    /// Begins a transaction. A `write` transaction takes the store's write lock at once, so
    /// that reading the chain head and appending after it cannot interleave with another
    /// writer. Dropping the transaction without [`StoreTx::commit`] rolls it back: an action
    /// and its audit record commit together or not at all.
    fn begin(&self, write: bool) -> Result<Box<dyn StoreTx + '_>, StoreError>;
}

/// Record access inside one transaction. Implementations store and return records as given;
/// they decide nothing.
pub trait StoreTx {
    fn commit(self: Box<Self>) -> Result<(), StoreError>;

    /// `(seq, hash)` of the last audit record.
    fn audit_head(&mut self) -> Result<Option<(u64, String)>, StoreError>;
    /// Appends one audit record (never updates or deletes one).
    fn audit_append(&mut self, record: &AuditRecord) -> Result<(), StoreError>;
    /// Appends consecutive audit records in order (a batch after the head). A store that can
    /// write them in one statement should: a stream worker appends a batch at a time.
    fn audit_append_all(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        records.iter().try_for_each(|r| self.audit_append(r))
    }
    fn audit_len(&mut self) -> Result<u64, StoreError>;
    /// Visits audit records in sequence order, only those of `kind` when given.
    fn audit_scan(
        &mut self,
        kind: Option<&str>,
        visit: &mut dyn FnMut(AuditRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    fn model(&mut self, version: &str) -> Result<Option<ModelEntry>, StoreError>;
    /// All models in registration order.
    fn models(&mut self) -> Result<Vec<ModelEntry>, StoreError>;
    fn insert_model(&mut self, entry: &ModelEntry) -> Result<(), StoreError>;
    /// Replaces the stored entry of `entry.model.version`.
    fn update_model(&mut self, entry: &ModelEntry) -> Result<(), StoreError>;
    /// Appends to the activation history.
    fn record_activation(&mut self, version: &str, at: &str, actor: &str)
        -> Result<(), StoreError>;
    /// Versions in activation order, oldest first (a version appears once per activation).
    fn activations(&mut self) -> Result<Vec<String>, StoreError>;

    /// Stores artefact bytes under their SHA-256 (hex); storing the same bytes again is a no-op.
    fn put_artefact(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError>;
    fn artefact(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Appends one feedback record; returns its id (increasing).
    fn insert_feedback(&mut self, recorded_at: &str, outcome: &Outcome) -> Result<i64, StoreError>;
    /// Every feedback record in id order.
    fn feedback(&mut self) -> Result<Vec<FeedbackRecord>, StoreError>;
    /// Every feedback record of these declarations (corrections included), in id order: one
    /// indexed look-up per declaration, so a case page never reads the whole log.
    fn feedback_of(
        &mut self,
        declaration_ids: &[String],
    ) -> Result<Vec<FeedbackRecord>, StoreError>;

    // Accounts and API tokens (see `crate::identity`). A store without them refuses (the
    // defaults), so a store written before accounts existed still builds; the contract suite
    // fails it until it implements them.

    /// The account whose `canonical_id` is this.
    fn account(&mut self, canonical_id: &str) -> Result<Option<Account>, StoreError> {
        let _ = canonical_id;
        Err(no_accounts())
    }
    /// Every account in creation order.
    fn accounts(&mut self) -> Result<Vec<Account>, StoreError> {
        Err(no_accounts())
    }
    /// Inserts a new account; a second account with the same `canonical_id` is refused.
    fn insert_account(&mut self, account: &Account) -> Result<(), StoreError> {
        let _ = account;
        Err(no_accounts())
    }
    /// Replaces the stored account of `account.canonical_id`.
    fn update_account(&mut self, account: &Account) -> Result<(), StoreError> {
        let _ = account;
        Err(no_accounts())
    }
    fn insert_token(&mut self, token: &ApiToken) -> Result<(), StoreError> {
        let _ = token;
        Err(no_accounts())
    }
    fn token_by_sha256(&mut self, secret_sha256: &str) -> Result<Option<ApiToken>, StoreError> {
        let _ = secret_sha256;
        Err(no_accounts())
    }
    /// Tokens of one account (by canonical id) or of all, in creation order.
    fn tokens(&mut self, account: Option<&str>) -> Result<Vec<ApiToken>, StoreError> {
        let _ = account;
        Err(no_accounts())
    }
    /// Replaces the stored token of `token.id` (revocation).
    fn update_token(&mut self, token: &ApiToken) -> Result<(), StoreError> {
        let _ = token;
        Err(no_accounts())
    }

    // Decision keys of the stream workers (see `crate::audit::record_decision_once`): one row
    // per (declaration id, model version), naming the audit record of that decision. A store
    // without them refuses.
    /// The audit sequence number of the decision on `declaration_id` by `model_version`.
    fn decision_key(
        &mut self,
        declaration_id: &str,
        model_version: &str,
    ) -> Result<Option<u64>, StoreError> {
        let _ = (declaration_id, model_version);
        Err(no_decision_keys())
    }
    /// Records that audit record `audit_seq` decided `declaration_id` by `model_version`; a
    /// second key for the same pair is refused.
    fn insert_decision_key(
        &mut self,
        declaration_id: &str,
        model_version: &str,
        audit_seq: u64,
    ) -> Result<(), StoreError> {
        let _ = (declaration_id, model_version, audit_seq);
        Err(no_decision_keys())
    }
    /// The decision keys among `declaration_ids` for `model_version` (declaration id -> audit
    /// sequence number; undecided ids are absent): one look-up for a batch.
    fn decision_keys(
        &mut self,
        declaration_ids: &[&str],
        model_version: &str,
    ) -> Result<HashMap<String, u64>, StoreError> {
        let mut out = HashMap::new();
        for id in declaration_ids {
            if let Some(seq) = self.decision_key(id, model_version)? {
                out.insert(id.to_string(), seq);
            }
        }
        Ok(out)
    }
    /// [`StoreTx::insert_decision_key`] for each `(declaration id, audit_seq)` of
    /// `model_version`; a pair decided already (or twice in `keys`) is refused.
    fn insert_decision_keys(
        &mut self,
        model_version: &str,
        keys: &[(&str, u64)],
    ) -> Result<(), StoreError> {
        keys.iter()
            .try_for_each(|(id, seq)| self.insert_decision_key(id, model_version, *seq))
    }
    // The decision index and inspection cases (see `crate::cases`). A store without them
    // refuses.
    /// Makes `entry` the indexed latest decision of its declaration (replacing an older one,
    /// and the rules that hit it with `entry.rules`).
    fn index_decision(&mut self, entry: &IndexedDecision) -> Result<(), StoreError> {
        let _ = entry;
        Err(no_cases())
    }
    /// [`StoreTx::index_decision`] for each entry in order (a later entry of one declaration
    /// replaces an earlier one).
    fn index_decisions(&mut self, entries: &[IndexedDecision]) -> Result<(), StoreError> {
        entries.iter().try_for_each(|e| self.index_decision(e))
    }
    /// The latest decision of a declaration (its audit record) with its case, if any.
    fn latest_decision(&mut self, declaration_id: &str) -> Result<Option<QueueHit>, StoreError> {
        let _ = declaration_id;
        Err(no_cases())
    }
    /// A page of the index under `query`'s filters and order, and how many rows match in all.
    fn queue_page(&mut self, query: &QueueQuery) -> Result<(Vec<QueueHit>, u64), StoreError> {
        let _ = query;
        Err(no_cases())
    }
    /// The case record of a declaration (`None`: pending).
    fn case(&mut self, declaration_id: &str) -> Result<Option<CaseRecord>, StoreError> {
        let _ = declaration_id;
        Err(no_cases())
    }
    /// Inserts or replaces the case record of `case.declaration_id`.
    fn put_case(&mut self, case: &CaseRecord) -> Result<(), StoreError> {
        let _ = case;
        Err(no_cases())
    }
    /// Stores a scored declaration's JSON under its SHA-256 (`input_hash`); storing the same
    /// input again is a no-op.
    fn put_scored_input(&mut self, input_hash: &str, body: &str) -> Result<(), StoreError> {
        let _ = (input_hash, body);
        Err(no_cases())
    }
    /// [`StoreTx::put_scored_input`] for each `(input_hash, body)`, in one statement where the
    /// store can (a stream worker stores a batch's inputs in its deciding transaction).
    fn put_scored_inputs(&mut self, inputs: &[(String, String)]) -> Result<(), StoreError> {
        for (hash, body) in inputs {
            self.put_scored_input(hash, body)?;
        }
        Ok(())
    }
    fn scored_input(&mut self, input_hash: &str) -> Result<Option<String>, StoreError> {
        let _ = input_hash;
        Err(no_cases())
    }
    // The capacity ledger (see `crate::capacity`): per office and window, the decisions and
    // how many went red and yellow. Read and written in the deciding write transaction. A
    // store without it refuses.
    /// The counts of `office` in `window`, if it decided anything there.
    fn lane_usage(&mut self, office: &str, window: &str) -> Result<Option<LaneUsage>, StoreError> {
        let _ = (office, window);
        Err(no_capacity_ledger())
    }
    /// Sets the counts of `office` in `window` (inserting the row when missing).
    fn put_lane_usage(
        &mut self,
        office: &str,
        window: &str,
        usage: &LaneUsage,
    ) -> Result<(), StoreError> {
        let _ = (office, window, usage);
        Err(no_capacity_ledger())
    }
    /// The counts of each of `offices` in `window` that decided anything there: one look-up
    /// for a batch.
    fn lane_usages_of(
        &mut self,
        offices: &[&str],
        window: &str,
    ) -> Result<HashMap<String, LaneUsage>, StoreError> {
        let mut out = HashMap::new();
        for office in offices {
            if let Some(u) = self.lane_usage(office, window)? {
                out.insert(office.to_string(), u);
            }
        }
        Ok(out)
    }
    /// [`StoreTx::put_lane_usage`] for each `(office, counts)` in `window`.
    fn put_lane_usages(
        &mut self,
        window: &str,
        rows: &[(&str, LaneUsage)],
    ) -> Result<(), StoreError> {
        rows.iter()
            .try_for_each(|(office, u)| self.put_lane_usage(office, window, u))
    }
    /// Every row whose window is in `from..=to` (windows compare as text: ISO days), ordered
    /// by window then office.
    fn lane_usages(&mut self, from: &str, to: &str) -> Result<Vec<UsageRow>, StoreError> {
        let _ = (from, to);
        Err(no_capacity_ledger())
    }

    // The supplier network (see `crate::network`): trade links and party screening results,
    // written in the deciding transaction. A store without it refuses.
    /// Records the links not stored yet (same `from`, `to`, `relation`); a stored link keeps
    /// its first declaration. Returns how many were new.
    fn add_trade_links(&mut self, links: &[TradeLink]) -> Result<u64, StoreError> {
        let _ = links;
        Err(no_network())
    }
    /// Every stored link with an end in `parties`, ordered by `from`, `to`, `relation`.
    fn trade_links_of(&mut self, parties: &[&str]) -> Result<Vec<TradeLink>, StoreError> {
        let _ = parties;
        Err(no_network())
    }
    /// The stored links with an end in `parties` whose other end has a stored screening
    /// result with `listed` set, with that result: the first hop of every network path from
    /// `parties` to a listed entity, in one look-up for a batch. Ordered by `from`, `to`,
    /// `relation`.
    fn links_to_listed(
        &mut self,
        parties: &[&str],
    ) -> Result<Vec<(TradeLink, PartyScreening)>, StoreError> {
        let _ = parties;
        Err(no_network())
    }
    /// Stores each party's latest screening result (replacing an earlier one).
    fn put_party_screenings(&mut self, results: &[PartyScreening]) -> Result<(), StoreError> {
        let _ = results;
        Err(no_network())
    }
    /// The stored screening results of `parties` that have one, by party id.
    fn party_screenings(
        &mut self,
        parties: &[&str],
    ) -> Result<HashMap<String, PartyScreening>, StoreError> {
        let _ = parties;
        Err(no_network())
    }

    // Analyst rule sets (see `crate::rulebook`): the source text with its state. A store
    // without them refuses.
    /// The rule set of this version.
    fn rule_set(&mut self, version: &str) -> Result<Option<RuleSetEntry>, StoreError> {
        let _ = version;
        Err(no_rule_sets())
    }
    /// Every rule set in upload order.
    fn rule_sets(&mut self) -> Result<Vec<RuleSetEntry>, StoreError> {
        Err(no_rule_sets())
    }
    /// Inserts a new rule set; a second one with the same version is refused.
    fn insert_rule_set(&mut self, entry: &RuleSetEntry) -> Result<(), StoreError> {
        let _ = entry;
        Err(no_rule_sets())
    }
    /// Replaces the stored rule set of `entry.version` (its state and approval fields).
    fn update_rule_set(&mut self, entry: &RuleSetEntry) -> Result<(), StoreError> {
        let _ = entry;
        Err(no_rule_sets())
    }
}

fn no_cases() -> StoreError {
    StoreError::Backend("this governance store keeps no decision index or cases".into())
}

fn no_capacity_ledger() -> StoreError {
    StoreError::Backend("this governance store keeps no capacity ledger".into())
}

fn no_network() -> StoreError {
    StoreError::Backend("this governance store keeps no supplier network".into())
}

fn no_rule_sets() -> StoreError {
    StoreError::Backend("this governance store keeps no rule sets".into())
}

fn no_decision_keys() -> StoreError {
    StoreError::Backend("this governance store keeps no decision keys".into())
}

fn no_accounts() -> StoreError {
    StoreError::Backend("this governance store keeps no accounts or tokens".into())
}

/// Current time as stored in every record: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs `f` in one transaction and commits if it succeeds; on an error nothing is written.
pub fn in_tx<T, E: From<StoreError>>(
    store: &dyn GovernanceStore,
    write: bool,
    f: impl FnOnce(&mut dyn StoreTx) -> Result<T, E>,
) -> Result<T, E> {
    let mut tx = store.begin(write)?;
    let out = f(tx.as_mut())?;
    tx.commit()?;
    Ok(out)
}
