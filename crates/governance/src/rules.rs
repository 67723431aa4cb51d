//! Analyst rules: a small readable language, one rule per `when ... then lane ... reason ...`.
//!
//! ```text
//! # Solar cells priced far below the benchmark
//! rule "solar-underpriced" priority 10
//! when hs6 starts_with "8541" and origin in ["CN", "MY"]
//!      and unit_value_percentile < 5
//! then lane yellow reason "solar cells below price benchmark"
//! ```
//!
//! The tokenizer and the recursive-descent parser are written by hand so that every error
//! names its line, column and what was expected: analysts edit these files, not programmers.
//! Field names are checked against the caller's list of known fields when the file is loaded,
//! and so are the types of the values compared with them (a misspelt field or `hs6 = 854140`
//! without quotes would otherwise never match and fail silently).
//!
//! Semantics, chosen to be unsurprising for analysts:
//! * text comparisons ignore ASCII case (`origin = "cn"` matches `CN`);
//! * any comparison with a missing value is false, including `!=` and `not in`; use
//!   `field is missing` / `field is not missing` to test presence;
//! * `not` binds tighter than `and`, which binds tighter than `or`.

use crate::lane::Lane;
use borderline_core::{Declaration, Reason, ReasonKind};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Whether a field holds text or a number; fixes which operators and literals it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
}

/// A field rules may name: its name, type and what it means (for documentation and errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub description: &'static str,
}

const fn text(name: &'static str, description: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::Text,
        description,
    }
}

const fn number(name: &'static str, description: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::Number,
        description,
    }
}

/// Fields of a declaration and its scoring that [`DeclarationContext`] provides. The module
/// fields at the end are missing unless the caller supplies them.
pub const DECLARATION_FIELDS: &[FieldSpec] = &[
    text("declaration_id", "declaration (item) id"),
    text("hs10", "declared HS code as declared (6 to 10 digits)"),
    text("hs6", "HS subheading (first 6 digits)"),
    text("hs4", "HS heading (first 4 digits)"),
    text("hs2", "HS chapter (first 2 digits)"),
    text("origin", "country of origin"),
    text("departure_country", "country of departure (missing when not declared)"),
    text("office", "customs office"),
    text("importer", "importer id"),
    text("declarant", "declarant (broker) id"),
    text("seller", "seller / consignor id (missing when not declared)"),
    text("courier", "courier id (missing when not declared)"),
    text("mode", "mode of transport code"),
    text("process_type", "process type code"),
    text("import_type", "import type code"),
    text("import_use", "import use code"),
    text("payment_type", "payment type code"),
    text("tax_type", "tax type code"),
    text("origin_indicator", "how origin was evidenced"),
    text("currency", "currency of the customs value"),
    text("date", "declaration date, YYYY-MM-DD (compares as text, so < and > are not allowed; use starts_with \"2021-04\")"),
    number("tax_rate", "duty rate in percent (8 means 8 %)"),
    number("item_price", "customs value"),
    number("net_mass", "net mass in kg"),
    number("unit_value", "customs value per kg"),
    number("quantity", "declared quantity"),
    number("tax_at_stake", "customs value x duty rate"),
    number("score", "model risk score, a probability between 0 and 1"),
    number("unit_value_percentile", "percentile (0-100) of the unit value against its HS6 x origin benchmark (valuation module)"),
    number("valuation_z", "robust z of the log unit value against its benchmark (valuation module)"),
    number("unit_value_vs_norm", "unit value divided by the usual unit value for the HS6 x origin in the model's history (1 = usual)"),
    number("hs_divergence", "divergence of the declared HS code from the trader's and peers' norms (HS module)"),
    number("screening_score", "best watchlist match score, 0-1 (screening module)"),
    number("importer_history", "past inspected declarations of the importer in the model's history"),
];

/// A field value in a [`RuleContext`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    Number(f64),
    Missing,
}

/// Where rules look up field values. Values of the wrong type are converted (a number given
/// for a text field is formatted; text given for a number field is parsed, else missing).
pub trait RuleContext {
    fn value(&self, field: &str) -> Value<'_>;
}

impl RuleContext for BTreeMap<String, Value<'_>> {
    fn value(&self, field: &str) -> Value<'_> {
        self.get(field).cloned().unwrap_or(Value::Missing)
    }
}

/// The fields of [`DECLARATION_FIELDS`] for one declaration, with its score and any module
/// values (`unit_value_percentile`, `screening_score`, ...) the caller computed.
pub struct DeclarationContext<'a> {
    pub declaration: &'a Declaration,
    pub score: Option<f64>,
    pub extra: &'a BTreeMap<String, f64>,
}

fn opt_text(v: &Option<borderline_core::Text>) -> Value<'_> {
    match v {
        Some(s) if !s.is_empty() => Value::Text(Cow::Borrowed(s.as_str())),
        _ => Value::Missing,
    }
}

fn t(s: &str) -> Value<'_> {
    Value::Text(Cow::Borrowed(s))
}

fn opt_num(v: Option<f64>) -> Value<'static> {
    match v {
        Some(x) if x.is_finite() => Value::Number(x),
        _ => Value::Missing,
    }
}

impl RuleContext for DeclarationContext<'_> {
    fn value(&self, field: &str) -> Value<'_> {
        let d = self.declaration;
        match field {
            "declaration_id" => t(&d.declaration_id),
            "hs10" => t(d.hs_code.as_str()),
            "hs6" => t(d.hs_code.hs6()),
            "hs4" => t(d.hs_code.hs4()),
            "hs2" => t(d.hs_code.hs2()),
            "origin" => t(&d.origin_country),
            "departure_country" => opt_text(&d.departure_country),
            "office" => t(&d.office),
            "importer" => t(&d.importer),
            "declarant" => t(&d.declarant),
            "seller" => opt_text(&d.seller),
            "courier" => opt_text(&d.courier),
            "mode" => t(&d.transport_mode),
            "process_type" => t(&d.process_type),
            "import_type" => t(&d.import_type),
            "import_use" => t(&d.import_use),
            "payment_type" => t(&d.payment_type),
            "tax_type" => t(&d.tax_type),
            "origin_indicator" => t(&d.origin_indicator),
            "currency" => t(&d.currency),
            "date" => Value::Text(Cow::Owned(d.date.to_string())),
            "tax_rate" => opt_num(d.tax_rate),
            "item_price" => opt_num(d.customs_value),
            "net_mass" => opt_num(d.net_mass_kg),
            "unit_value" => opt_num(d.unit_value()),
            "quantity" => opt_num(d.quantity),
            "tax_at_stake" => opt_num(Some(d.tax_at_stake())),
            "score" => opt_num(self.score),
            other => opt_num(self.extra.get(other).copied()),
        }
    }
}

/// Where in the rule file, and what went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub kind: SyntaxErrorKind,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyntaxErrorKind {
    #[error("expected {expected}, found {found}")]
    Expected { expected: String, found: String },
    #[error("unknown field `{name}`; known fields: {}", known.join(", "))]
    UnknownField { name: String, known: Vec<String> },
    #[error("`{field}` is a {} field: expected {expected}", kind_name(*kind))]
    WrongType {
        field: String,
        kind: FieldKind,
        expected: String,
    },
    #[error("text starting here has no closing quote")]
    UnterminatedText,
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    #[error("rule id {0:?} is used twice")]
    DuplicateRuleId(String),
    #[error("conditions nest deeper than {limit} levels of `(` or `not`; split the rule")]
    TooDeep { limit: usize },
    #[error("a rule file is at most {limit} characters; this one goes on from here")]
    TooLong { limit: usize },
}

/// The longest rule file, in characters. A rule set is a few pages an analyst writes and a
/// supervisor reads before approving, not a data file; the limit keeps parsing, storing and
/// reviewing it bounded wherever it comes from (the CLI, the HTTP API, whose schema states it
/// as `maxLength`).
pub const MAX_RULE_SOURCE_CHARS: usize = 262_144;

/// The deepest nesting of `(` and `not` a condition may have. Analysts' rules nest a few
/// levels; the limit keeps the recursive parser, evaluator and drop of the syntax tree far from
/// the stack's end on hostile files (10,000 `(` used to overflow the stack).
pub const MAX_NESTING: usize = 64;

fn kind_name(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "text",
        FieldKind::Number => "number",
    }
}

/// A rule file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum RuleFileError {
    #[error("cannot read rule file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("rule file {path}, {error}")]
    Syntax { path: String, error: SyntaxError },
}

// ---------------------------------------------------------------- tokenizer

/// At most the first 80 characters of a token, so a hostile file's megabyte-long word is not
/// echoed in full in an error message.
fn bounded(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(80) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}...", &s[..cut])),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Text(String),
    Number(f64),
    Op(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{}`", bounded(s)),
            Tok::Text(s) => format!("text {:?}", bounded(s)),
            Tok::Number(n) => format!("number {n}"),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::End => "end of file".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    column: usize,
}

fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut out = Vec::new();
    let err = |line, column, kind| SyntaxError { line, column, kind };
    while i < chars.len() {
        let c = chars[i];
        let (tl, tc) = (line, col);
        let mut push = |tok: Tok, len: usize, i: &mut usize, col: &mut usize| {
            out.push(Token {
                tok,
                line: tl,
                column: tc,
            });
            *i += len;
            *col += len;
        };
        match c {
            '\n' => {
                i += 1;
                line += 1;
                col = 1;
            }
            c if c.is_whitespace() => {
                i += 1;
                col += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '(' => push(Tok::LParen, 1, &mut i, &mut col),
            ')' => push(Tok::RParen, 1, &mut i, &mut col),
            '[' => push(Tok::LBracket, 1, &mut i, &mut col),
            ']' => push(Tok::RBracket, 1, &mut i, &mut col),
            ',' => push(Tok::Comma, 1, &mut i, &mut col),
            '=' => {
                // `==` is accepted too: analysts coming from spreadsheets and SQL write both.
                let len = if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
                push(Tok::Op(CmpOp::Eq), len, &mut i, &mut col)
            }
            '!' if chars.get(i + 1) == Some(&'=') => push(Tok::Op(CmpOp::Ne), 2, &mut i, &mut col),
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                let op = match (c, eq) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                push(Tok::Op(op), 1 + usize::from(eq), &mut i, &mut col)
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None | Some('\n') => {
                            return Err(err(tl, tc, SyntaxErrorKind::UnterminatedText))
                        }
                        Some('"') => break,
                        Some('\\') if matches!(chars.get(j + 1), Some('"') | Some('\\')) => {
                            s.push(chars[j + 1]);
                            j += 2;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            j += 1;
                        }
                    }
                }
                push(Tok::Text(s), j + 1 - i, &mut i, &mut col)
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
                || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    j += 1;
                }
                let s: String = chars[i..j].iter().collect();
                let n: f64 = s.parse().map_err(|_| {
                    err(
                        tl,
                        tc,
                        SyntaxErrorKind::Expected {
                            expected: "a number such as 5 or 0.25".into(),
                            found: format!("`{s}`"),
                        },
                    )
                })?;
                push(Tok::Number(n), j - i, &mut i, &mut col)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let s: String = chars[i..j].iter().collect();
                push(Tok::Ident(s), j - i, &mut i, &mut col)
            }
            other => return Err(err(tl, tc, SyntaxErrorKind::UnexpectedChar(other))),
        }
    }
    out.push(Token {
        tok: Tok::End,
        line,
        column: col,
    });
    Ok(out)
}

// ---------------------------------------------------------------- syntax tree

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    StartsWith,
    Contains,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::StartsWith => "starts_with",
            CmpOp::Contains => "contains",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    /// Lower-cased once at load time: text comparisons ignore ASCII case.
    Text(String),
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        field: FieldSpec,
        op: CmpOp,
        value: Literal,
    },
    In {
        field: FieldSpec,
        values: Vec<Literal>,
        negated: bool,
    },
    Missing {
        field: FieldSpec,
        negated: bool,
    },
}

/// One analyst rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// From `rule "id"`, else `rule-N` for the N-th rule of the file.
    pub id: String,
    /// From `priority N` (default 0): among several hits the highest priority decides the lane.
    pub priority: i64,
    pub lane: Lane,
    pub reason: String,
    /// Line of the rule's first token, for messages.
    pub line: usize,
    condition: Expr,
}

/// A rule that matched a declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    pub rule_id: String,
    pub priority: i64,
    pub lane: Lane,
    /// `ReasonKind::Rule`, code = rule id, text = the rule's reason.
    pub reason: Reason,
}

/// A parsed rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    rules: Vec<Rule>,
    version: String,
}

// ---------------------------------------------------------------- parser

struct Parser<'f> {
    toks: Vec<Token>,
    pos: usize,
    fields: &'f [FieldSpec],
    /// Current nesting of `(` and `not`, bounded by [`MAX_NESTING`].
    depth: usize,
}

const KEYWORDS: &[&str] = &[
    "rule",
    "priority",
    "when",
    "then",
    "lane",
    "reason",
    "and",
    "or",
    "not",
    "in",
    "is",
    "missing",
    "starts_with",
    "contains",
];

const COMPARISON: &str =
    "a comparison (=, !=, <, <=, >, >=, starts_with, contains, in, not in, is missing)";

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `advance` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error_here(&self, kind: SyntaxErrorKind) -> SyntaxError {
        let t = self.peek();
        SyntaxError {
            line: t.line,
            column: t.column,
            kind,
        }
    }

    fn expected(&self, expected: &str) -> SyntaxError {
        self.error_here(SyntaxErrorKind::Expected {
            expected: expected.to_string(),
            found: self.peek().tok.describe(),
        })
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == kw)
    }

    fn keyword(&mut self, kw: &str, expected: &str) -> Result<(), SyntaxError> {
        if self.is_keyword(kw) {
            self.advance();
            Ok(())
        } else {
            Err(self.expected(expected))
        }
    }

    fn text(&mut self, expected: &str) -> Result<String, SyntaxError> {
        match &self.peek().tok {
            Tok::Text(s) => {
                let s = s.clone();
                self.advance();
                Ok(s)
            }
            _ => Err(self.expected(expected)),
        }
    }

    fn rule(&mut self, ordinal: usize) -> Result<Rule, SyntaxError> {
        let line = self.peek().line;
        let mut id = format!("rule-{ordinal}");
        let mut priority = 0;
        if self.is_keyword("rule") {
            self.advance();
            id = self.text("a quoted rule id after `rule`, e.g. rule \"solar-underpriced\"")?;
        }
        if self.is_keyword("priority") {
            self.advance();
            match self.peek().tok {
                Tok::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                    priority = n as i64;
                    self.advance();
                }
                _ => return Err(self.expected("a whole number after `priority`")),
            }
        }
        let start = if id.starts_with("rule-") && priority == 0 {
            "`rule`, `priority` or `when`"
        } else {
            "`when`"
        };
        self.keyword("when", start)?;
        let condition = self.or()?;
        self.keyword("then", "`and`, `or` or `then`")?;
        self.keyword("lane", "`lane` after `then`")?;
        let lane = match &self.peek().tok {
            Tok::Ident(s) => s.parse::<Lane>().ok(),
            _ => None,
        }
        .ok_or_else(|| self.expected("a lane: red, yellow, green or blue"))?;
        self.advance();
        self.keyword("reason", "`reason` and a quoted explanation after the lane")?;
        let reason = self.text("a quoted reason, e.g. reason \"below price benchmark\"")?;
        if reason.trim().is_empty() {
            return Err(self.expected_at_previous("a non-empty reason"));
        }
        Ok(Rule {
            id,
            priority,
            lane,
            reason,
            line,
            condition,
        })
    }

    fn expected_at_previous(&self, expected: &str) -> SyntaxError {
        let t = &self.toks[self.pos.saturating_sub(1)];
        SyntaxError {
            line: t.line,
            column: t.column,
            kind: SyntaxErrorKind::Expected {
                expected: expected.to_string(),
                found: t.tok.describe(),
            },
        }
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut parts = vec![self.and()?];
        while self.is_keyword("or") {
            self.advance();
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut parts = vec![self.unary()?];
        while self.is_keyword("and") {
            self.advance();
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        let nests = self.is_keyword("not") || self.peek().tok == Tok::LParen;
        if !nests {
            return self.comparison();
        }
        if self.depth >= MAX_NESTING {
            return Err(self.error_here(SyntaxErrorKind::TooDeep { limit: MAX_NESTING }));
        }
        self.depth += 1;
        let e = self.nested();
        self.depth -= 1;
        e
    }

    /// `not x` or `( x )`, one level of nesting.
    fn nested(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_keyword("not") {
            self.advance();
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.advance(); // `(`
        let e = self.or()?;
        if self.peek().tok != Tok::RParen {
            return Err(self.expected("`and`, `or` or `)`"));
        }
        self.advance();
        Ok(e)
    }

    fn field(&mut self) -> Result<FieldSpec, SyntaxError> {
        let name = match &self.peek().tok {
            Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => s.clone(),
            _ => return Err(self.expected("a condition: a field name, `not` or `(`")),
        };
        match self.fields.iter().find(|f| f.name == name) {
            Some(f) => {
                self.advance();
                Ok(*f)
            }
            None => Err(self.error_here(SyntaxErrorKind::UnknownField {
                name,
                known: self.fields.iter().map(|f| f.name.to_string()).collect(),
            })),
        }
    }

    fn literal(&mut self, field: &FieldSpec) -> Result<Literal, SyntaxError> {
        let lit = match (&self.peek().tok, field.kind) {
            (Tok::Text(s), FieldKind::Text) => Literal::Text(s.to_ascii_lowercase()),
            (Tok::Number(n), FieldKind::Number) => Literal::Number(*n),
            (_, kind) => {
                return Err(self.error_here(SyntaxErrorKind::WrongType {
                    field: field.name.to_string(),
                    kind,
                    expected: match kind {
                        FieldKind::Text => format!(
                            "a quoted text such as \"8541\", found {}",
                            self.peek().tok.describe()
                        ),
                        FieldKind::Number => {
                            format!("a number such as 5, found {}", self.peek().tok.describe())
                        }
                    },
                }))
            }
        };
        self.advance();
        Ok(lit)
    }

    fn list(&mut self, field: &FieldSpec) -> Result<Vec<Literal>, SyntaxError> {
        if self.peek().tok != Tok::LBracket {
            return Err(self.expected("`[` starting a list, e.g. [\"CN\", \"MY\"]"));
        }
        self.advance();
        let mut values = vec![self.literal(field)?];
        loop {
            match self.peek().tok {
                Tok::Comma => {
                    self.advance();
                    if self.peek().tok == Tok::RBracket {
                        break;
                    }
                    values.push(self.literal(field)?);
                }
                Tok::RBracket => break,
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
        self.advance();
        Ok(values)
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let field = self.field()?;
        let name = field.name;
        let spec = field;
        let op_token = self.peek().clone();
        let op = match &op_token.tok {
            Tok::Op(op) => Some(*op),
            Tok::Ident(s) if s == "starts_with" => Some(CmpOp::StartsWith),
            Tok::Ident(s) if s == "contains" => Some(CmpOp::Contains),
            _ => None,
        };
        if let Some(op) = op {
            let allowed = match field.kind {
                FieldKind::Text => matches!(
                    op,
                    CmpOp::Eq | CmpOp::Ne | CmpOp::StartsWith | CmpOp::Contains
                ),
                FieldKind::Number => !matches!(op, CmpOp::StartsWith | CmpOp::Contains),
            };
            if !allowed {
                return Err(self.error_here(SyntaxErrorKind::WrongType {
                    field: name.to_string(),
                    kind: field.kind,
                    expected: match field.kind {
                        FieldKind::Text => format!(
                            "=, !=, starts_with, contains, in or not in (`{}` compares numbers)",
                            op.symbol()
                        ),
                        FieldKind::Number => format!(
                            "=, !=, <, <=, >, >=, in or not in (`{}` applies to text)",
                            op.symbol()
                        ),
                    },
                }));
            }
            self.advance();
            let value = self.literal(&field)?;
            return Ok(Expr::Compare {
                field: spec,
                op,
                value,
            });
        }
        if self.is_keyword("in") {
            self.advance();
            let values = self.list(&field)?;
            return Ok(Expr::In {
                field: spec,
                values,
                negated: false,
            });
        }
        if self.is_keyword("not") {
            self.advance();
            self.keyword("in", "`in` after `not`")?;
            let values = self.list(&field)?;
            return Ok(Expr::In {
                field: spec,
                values,
                negated: true,
            });
        }
        if self.is_keyword("is") {
            self.advance();
            let negated = self.is_keyword("not");
            if negated {
                self.advance();
            }
            self.keyword("missing", "`missing` after `is` or `is not`")?;
            return Ok(Expr::Missing {
                field: spec,
                negated,
            });
        }
        Err(self.expected(COMPARISON))
    }
}

// ---------------------------------------------------------------- evaluation

/// A field value normalised for comparison: text lower-cased, numbers finite.
enum Norm {
    Text(String),
    Number(f64),
    Missing,
}

fn normalise(v: Value<'_>, kind: FieldKind) -> Norm {
    match (v, kind) {
        (Value::Missing, _) => Norm::Missing,
        (Value::Text(s), FieldKind::Text) => Norm::Text(s.to_ascii_lowercase()),
        (Value::Number(n), FieldKind::Number) if n.is_finite() => Norm::Number(n),
        (Value::Number(n), FieldKind::Text) if n.is_finite() => Norm::Text(n.to_string()),
        (Value::Text(s), FieldKind::Number) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Norm::Number(n),
            _ => Norm::Missing,
        },
        _ => Norm::Missing,
    }
}

fn compare(v: &Norm, op: CmpOp, lit: &Literal) -> bool {
    match (v, lit) {
        (Norm::Text(s), Literal::Text(l)) => match op {
            CmpOp::Eq => s == l,
            CmpOp::Ne => s != l,
            CmpOp::StartsWith => s.starts_with(l.as_str()),
            CmpOp::Contains => s.contains(l.as_str()),
            // Rejected at load time for text fields.
            _ => false,
        },
        (Norm::Number(x), Literal::Number(l)) => match op {
            CmpOp::Eq => x == l,
            CmpOp::Ne => x != l,
            CmpOp::Lt => x < l,
            CmpOp::Le => x <= l,
            CmpOp::Gt => x > l,
            CmpOp::Ge => x >= l,
            _ => false,
        },
        // Missing values (and impossible type mixes) never satisfy a comparison.
        _ => false,
    }
}

impl Expr {
    fn eval(&self, ctx: &dyn RuleContext) -> bool {
        let get = |f: &FieldSpec| normalise(ctx.value(f.name), f.kind);
        match self {
            Expr::Or(parts) => parts.iter().any(|p| p.eval(ctx)),
            Expr::And(parts) => parts.iter().all(|p| p.eval(ctx)),
            Expr::Not(e) => !e.eval(ctx),
            Expr::Compare { field, op, value } => compare(&get(field), *op, value),
            Expr::In {
                field,
                values,
                negated,
            } => {
                let v = get(field);
                if matches!(v, Norm::Missing) {
                    return false;
                }
                let found = values.iter().any(|l| compare(&v, CmpOp::Eq, l));
                found != *negated
            }
            Expr::Missing { field, negated } => {
                let missing = matches!(get(field), Norm::Missing);
                missing != *negated
            }
        }
    }
}

impl RuleSet {
    /// Parses a rule file's text; `fields` are the field names rules may use.
    pub fn parse(source: &str, fields: &'static [FieldSpec]) -> Result<RuleSet, SyntaxError> {
        if let Some((at, _)) = source.char_indices().nth(MAX_RULE_SOURCE_CHARS) {
            // Where the first character past the limit is, as every syntax error says.
            let before = &source[..at];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            return Err(SyntaxError {
                line: before.matches('\n').count() + 1,
                column: before[line_start..].chars().count() + 1,
                kind: SyntaxErrorKind::TooLong {
                    limit: MAX_RULE_SOURCE_CHARS,
                },
            });
        }
        let mut p = Parser {
            toks: tokenize(source)?,
            pos: 0,
            fields,
            depth: 0,
        };
        let mut rules: Vec<Rule> = Vec::new();
        let mut ids = HashSet::new();
        while p.peek().tok != Tok::End {
            let (line, column) = (p.peek().line, p.peek().column);
            let rule = p.rule(rules.len() + 1)?;
            if !ids.insert(rule.id.clone()) {
                return Err(SyntaxError {
                    line,
                    column,
                    kind: SyntaxErrorKind::DuplicateRuleId(rule.id),
                });
            }
            rules.push(rule);
        }
        let hash = Sha256::digest(source.as_bytes());
        let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(RuleSet {
            rules,
            version: format!("rules-{hex}"),
        })
    }

    /// Reads and parses a rule file.
    pub fn from_file(path: &Path, fields: &'static [FieldSpec]) -> Result<RuleSet, RuleFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RuleFileError::Io {
            path: shown.clone(),
            source,
        })?;
        RuleSet::parse(&text, fields).map_err(|error| RuleFileError::Syntax { path: shown, error })
    }

    /// An empty rule set (no analyst rules), version `rules-none`.
    pub fn empty() -> RuleSet {
        RuleSet {
            rules: Vec::new(),
            version: "rules-none".into(),
        }
    }

    /// Content hash of the rule file (`rules-` + 16 hex digits of its SHA-256): the audit log
    /// records it with every decision so that any decision can be traced to the exact rules.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules that match, in file order.
    pub fn evaluate(&self, ctx: &dyn RuleContext) -> Vec<RuleHit> {
        self.rules
            .iter()
            .filter(|r| r.condition.eval(ctx))
            .map(|r| RuleHit {
                rule_id: r.id.clone(),
                priority: r.priority,
                lane: r.lane,
                reason: Reason {
                    kind: ReasonKind::Rule,
                    code: r.id.clone(),
                    text: r.reason.clone(),
                    contribution: None,
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, Value<'static>)]) -> BTreeMap<String, Value<'static>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn t(s: &str) -> Value<'static> {
        Value::Text(Cow::Owned(s.to_string()))
    }

    fn parse(src: &str) -> RuleSet {
        match RuleSet::parse(src, DECLARATION_FIELDS) {
            Ok(r) => r,
            Err(e) => panic!("{src}\n{e}"),
        }
    }

    fn err(src: &str) -> SyntaxError {
        match RuleSet::parse(src, DECLARATION_FIELDS) {
            Ok(_) => panic!("expected an error for {src}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_rule_file_longer_than_the_limit_is_refused_where_the_limit_is_passed() {
        // Comments only: length alone decides. Multibyte characters count once.
        let line = format!("# {}\n", "é".repeat(97)); // 100 characters with its newline
        let full = line.repeat(MAX_RULE_SOURCE_CHARS / 100);
        let at_limit = format!("{full}{}", "#".repeat(MAX_RULE_SOURCE_CHARS % 100));
        assert_eq!(at_limit.chars().count(), MAX_RULE_SOURCE_CHARS);
        assert!(
            RuleSet::parse(&at_limit, DECLARATION_FIELDS).is_ok(),
            "exactly the limit is accepted"
        );
        let e = err(&format!("{at_limit}#"));
        assert_eq!(
            e.kind,
            SyntaxErrorKind::TooLong {
                limit: MAX_RULE_SOURCE_CHARS
            }
        );
        assert_eq!(
            (e.line, e.column),
            (
                MAX_RULE_SOURCE_CHARS / 100 + 1,
                MAX_RULE_SOURCE_CHARS % 100 + 1
            ),
            "the first character past the limit"
        );
    }

    const SOLAR: &str = r#"when hs6 starts_with "8541" and origin in ["CN","MY"] and unit_value_percentile < 5 then lane yellow reason "solar cells below price benchmark""#;

    #[test]
    fn the_issue_example_matches_only_underpriced_solar_cells_from_listed_origins() {
        let rules = parse(SOLAR);
        let hit = ctx(&[
            ("hs6", t("854140")),
            ("origin", t("CN")),
            ("unit_value_percentile", Value::Number(3.0)),
        ]);
        let hits = rules.evaluate(&hit);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].lane, Lane::Yellow);
        assert_eq!(hits[0].rule_id, "rule-1");
        assert_eq!(hits[0].reason.kind, ReasonKind::Rule);
        assert_eq!(hits[0].reason.text, "solar cells below price benchmark");

        for miss in [
            ctx(&[
                ("hs6", t("854140")),
                ("origin", t("DE")),
                ("unit_value_percentile", Value::Number(3.0)),
            ]),
            ctx(&[
                ("hs6", t("850440")),
                ("origin", t("CN")),
                ("unit_value_percentile", Value::Number(3.0)),
            ]),
            ctx(&[
                ("hs6", t("854140")),
                ("origin", t("MY")),
                ("unit_value_percentile", Value::Number(5.0)),
            ]),
            // A missing benchmark never satisfies `< 5`.
            ctx(&[("hs6", t("854140")), ("origin", t("MY"))]),
        ] {
            assert!(rules.evaluate(&miss).is_empty(), "{miss:?}");
        }
    }

    #[test]
    fn multi_line_rules_with_comments_ids_priorities_and_parentheses() {
        let rules = parse(
            r#"
# trusted trader programme
rule "aeo" priority -5
when importer in ["AEO1", "AEO2",]   # trailing comma allowed
then lane green reason "authorised economic operator"

rule "sanctions" priority 100
when screening_score >= 0.9
  or (origin = "kp" and not (mode = "40"))
then lane red reason "party or origin under sanctions"

when tax_rate > 8 and not item_price <= 1000 then lane blue reason "high duty, audit later"
"#,
        );
        let ids: Vec<(&str, i64, Lane, usize)> = rules
            .rules()
            .iter()
            .map(|r| (r.id.as_str(), r.priority, r.lane, r.line))
            .collect();
        assert_eq!(
            ids,
            [
                ("aeo", -5, Lane::Green, 3),
                ("sanctions", 100, Lane::Red, 7),
                ("rule-3", 0, Lane::Blue, 12)
            ]
        );
        let hits = |c: &BTreeMap<String, Value<'static>>| -> Vec<String> {
            rules.evaluate(c).into_iter().map(|h| h.rule_id).collect()
        };
        assert_eq!(hits(&ctx(&[("importer", t("aeo2"))])), ["aeo"]);
        assert_eq!(
            hits(&ctx(&[("screening_score", Value::Number(0.95))])),
            ["sanctions"]
        );
        assert_eq!(
            hits(&ctx(&[("origin", t("KP")), ("mode", t("10"))])),
            ["sanctions"]
        );
        assert!(hits(&ctx(&[("origin", t("KP")), ("mode", t("40"))])).is_empty());
        assert_eq!(
            hits(&ctx(&[
                ("tax_rate", Value::Number(13.0)),
                ("item_price", Value::Number(5000.0))
            ])),
            ["rule-3"]
        );
        assert!(hits(&ctx(&[
            ("tax_rate", Value::Number(13.0)),
            ("item_price", Value::Number(500.0))
        ]))
        .is_empty());
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let rules = parse(
            r#"when origin = "CN" or origin = "MY" and tax_rate > 10 then lane red reason "r""#,
        );
        // Parsed as CN or (MY and tax_rate > 10).
        assert_eq!(rules.evaluate(&ctx(&[("origin", t("CN"))])).len(), 1);
        assert_eq!(rules.evaluate(&ctx(&[("origin", t("MY"))])).len(), 0);
        assert_eq!(
            rules
                .evaluate(&ctx(&[
                    ("origin", t("MY")),
                    ("tax_rate", Value::Number(13.0))
                ]))
                .len(),
            1
        );
    }

    #[test]
    fn missing_values_fail_every_comparison_but_can_be_tested_for() {
        let rules = parse(
            r#"
rule "ne" when seller != "X" then lane yellow reason "a"
rule "notin" when seller not in ["X"] then lane yellow reason "b"
rule "none" when seller is missing then lane yellow reason "c"
rule "some" when seller is not missing then lane yellow reason "d"
"#,
        );
        let ids =
            |c| -> Vec<String> { rules.evaluate(&c).into_iter().map(|h| h.rule_id).collect() };
        assert_eq!(ids(ctx(&[])), ["none"]);
        assert_eq!(ids(ctx(&[("seller", t("Y"))])), ["ne", "notin", "some"]);
        assert_eq!(ids(ctx(&[("seller", t("x"))])), ["some"]);
        // NaN is missing too.
        let nan = parse(r#"when score != 0.5 then lane red reason "n""#);
        assert!(nan
            .evaluate(&ctx(&[("score", Value::Number(f64::NAN))]))
            .is_empty());
    }

    #[test]
    fn all_comparison_operators() {
        let cases = [
            ("tax_rate = 8", true),
            ("tax_rate == 8", true),
            ("tax_rate != 8", false),
            ("tax_rate < 8", false),
            ("tax_rate <= 8", true),
            ("tax_rate > 7.5", true),
            ("tax_rate >= 8.01", false),
            ("tax_rate in [1, 8]", true),
            ("tax_rate not in [1, 8]", false),
            (r#"importer contains "bc""#, true),
            (r#"importer starts_with "ab""#, true),
            (r#"importer starts_with "bc""#, false),
            (r#"importer = "ABCD""#, true),
            (r#"not importer = "ABCD""#, false),
            ("net_mass >= -1", true),
        ];
        let c = ctx(&[
            ("tax_rate", Value::Number(8.0)),
            ("importer", t("abcd")),
            ("net_mass", Value::Number(0.0)),
        ]);
        for (cond, expected) in cases {
            let rules = parse(&format!("when {cond} then lane red reason \"x\""));
            assert_eq!(!rules.evaluate(&c).is_empty(), expected, "{cond}");
        }
    }

    #[test]
    fn errors_give_line_column_and_what_was_expected() {
        let e = err("when hs6 starts_with \"85\"\n  and origin in [\"CN\" \"MY\"] then lane red reason \"x\"");
        assert_eq!((e.line, e.column), (2, 23));
        assert_eq!(
            e.kind,
            SyntaxErrorKind::Expected {
                expected: "`,` or `]`".into(),
                found: "text \"MY\"".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "line 2, column 23: expected `,` or `]`, found text \"MY\""
        );

        let e = err("when origin = \"CN\"\nthen lane purple reason \"x\"");
        assert_eq!((e.line, e.column), (2, 11));
        assert!(e
            .to_string()
            .contains("expected a lane: red, yellow, green or blue, found `purple`"));

        let e = err("when origin = \"CN\" lane red reason \"x\"");
        assert_eq!((e.line, e.column), (1, 20));
        assert!(
            e.to_string().contains("expected `and`, `or` or `then`"),
            "{e}"
        );

        let e = err("when origin \"CN\" then lane red reason \"x\"");
        assert_eq!((e.line, e.column), (1, 13));
        assert!(e.to_string().contains("expected a comparison"), "{e}");

        let e = err("when (origin = \"CN\" then lane red reason \"x\"");
        assert_eq!((e.line, e.column), (1, 21));
        assert!(e.to_string().contains("expected `and`, `or` or `)`"), "{e}");

        let e = err("when origin = \"CN then lane red reason \"x\"\n");
        assert_eq!((e.line, e.column), (1, 42));
        assert_eq!(e.kind, SyntaxErrorKind::UnterminatedText);

        let e = err("when origin = \"CN\" then lane red");
        assert!(e.to_string().contains("found end of file"), "{e}");

        let e = err("when tax_rate > 8 then lane red reason \"\"");
        assert!(e.to_string().contains("non-empty reason"), "{e}");

        let e = err("when origin = \"CN\" then lane red reason \"x\"\nhwen origin = \"MY\"");
        assert_eq!((e.line, e.column), (2, 1));
        assert!(
            e.to_string()
                .contains("expected `rule`, `priority` or `when`, found `hwen`"),
            "{e}"
        );

        let e = err("when tax_rate > 8 ; then lane red reason \"x\"");
        assert_eq!(
            (e.line, e.column, e.kind),
            (1, 19, SyntaxErrorKind::UnexpectedChar(';'))
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_load_time_errors() {
        let e = err("# header\nwhen hs8 = \"85414010\" then lane red reason \"x\"");
        assert_eq!((e.line, e.column), (2, 6));
        match &e.kind {
            SyntaxErrorKind::UnknownField { name, known } => {
                assert_eq!(name, "hs8");
                assert!(known.iter().any(|k| k == "hs6"));
            }
            other => panic!("{other:?}"),
        }
        assert!(e
            .to_string()
            .contains("known fields: declaration_id, hs10, hs6"));

        // An unquoted HS code would never equal the text field: refused.
        let e = err("when hs6 = 854140 then lane red reason \"x\"");
        assert_eq!((e.line, e.column), (1, 12));
        assert!(matches!(
            e.kind,
            SyntaxErrorKind::WrongType {
                kind: FieldKind::Text,
                ..
            }
        ));

        let e = err("when tax_rate = \"8\" then lane red reason \"x\"");
        assert!(matches!(
            e.kind,
            SyntaxErrorKind::WrongType {
                kind: FieldKind::Number,
                ..
            }
        ));

        let e = err("when origin < \"CN\" then lane red reason \"x\"");
        assert_eq!((e.line, e.column), (1, 13));
        assert!(e.to_string().contains("`<` compares numbers"), "{e}");

        let e = err("when score starts_with \"0\" then lane red reason \"x\"");
        assert!(e.to_string().contains("applies to text"), "{e}");

        let e = err("rule \"a\" when score > 0.9 then lane red reason \"x\"\nrule \"a\" when score > 0.8 then lane yellow reason \"y\"");
        assert_eq!(
            (e.line, e.column, e.kind),
            (2, 1, SyntaxErrorKind::DuplicateRuleId("a".into()))
        );
    }

    #[test]
    fn deep_nesting_is_an_error_with_position_not_a_stack_overflow() {
        let parens = format!(
            "when {}origin = \"CN\"{} then lane red reason \"x\"",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        let e = err(&parens);
        assert!(
            matches!(e.kind, SyntaxErrorKind::TooDeep { limit: MAX_NESTING }),
            "{e}"
        );
        // The first `(` past the limit: "when " is 5 columns, then MAX_NESTING parentheses.
        assert_eq!((e.line, e.column), (1, 6 + MAX_NESTING));
        assert!(e.to_string().starts_with("line 1, column "), "{e}");

        let nots = format!(
            "when\n{}origin = \"CN\" then lane red reason \"x\"",
            "not ".repeat(60_000) // 240,000 characters: under the length limit
        );
        let e = err(&nots);
        assert!(matches!(e.kind, SyntaxErrorKind::TooDeep { .. }), "{e}");
        assert_eq!((e.line, e.column), (2, 1 + 4 * MAX_NESTING));

        // Up to the limit parses and evaluates.
        let ok = format!(
            "when {}origin = \"CN\"{} then lane red reason \"x\"",
            "(".repeat(MAX_NESTING - 1) + "not ",
            ")".repeat(MAX_NESTING - 1)
        );
        let rules = parse(&ok);
        assert!(rules.evaluate(&ctx(&[("origin", t("US"))])).len() == 1);
        assert!(rules.evaluate(&ctx(&[("origin", t("CN"))])).is_empty());
    }

    #[test]
    fn version_is_a_content_hash() {
        let a = parse(SOLAR);
        let b = parse(SOLAR);
        let c = parse(&SOLAR.replace("< 5", "< 6"));
        assert_eq!(a.version(), b.version());
        assert_ne!(a.version(), c.version());
        assert!(a.version().starts_with("rules-") && a.version().len() == 22);
        assert_eq!(parse("# nothing yet\n").rules().len(), 0);
    }

    #[test]
    fn declaration_context_provides_the_documented_fields() {
        let d = Declaration {
            declaration_id: "D1".into(),
            date: chrono::NaiveDate::from_ymd_opt(2021, 4, 1).unwrap_or_default(),
            office: "40".into(),
            declarant: "DEC".into(),
            importer: "IMP".into(),
            seller: None,
            courier: None,
            hs_code: borderline_core::HsCode::parse("8541401000").expect("valid code"),
            origin_country: "CN".into(),
            departure_country: Some("MY".into()),
            transport_mode: "10".into(),
            process_type: "B".into(),
            import_type: "11".into(),
            import_use: "21".into(),
            payment_type: "11".into(),
            net_mass_kg: Some(10.0),
            customs_value: Some(1000.0),
            currency: "KRW".into(),
            tax_rate: Some(8.0),
            tax_type: "A".into(),
            origin_indicator: "G".into(),
            description: None,
            quantity: None,
            quantity_unit: None,
            outcome: None,
        };
        let extra: BTreeMap<String, f64> = [("unit_value_percentile".to_string(), 3.0)].into();
        let c = DeclarationContext {
            declaration: &d,
            score: Some(0.7),
            extra: &extra,
        };
        let rules = parse(
            r#"when hs10 = "8541401000" and hs6 = "854140" and hs4 = "8541" and hs2 = "85"
  and origin = "CN" and departure_country = "MY" and seller is missing and office = "40"
  and unit_value = 100 and tax_at_stake = 80 and score > 0.5 and date starts_with "2021-04"
  and unit_value_percentile < 5 and screening_score is missing
then lane yellow reason "all fields""#,
        );
        assert_eq!(rules.evaluate(&c).len(), 1);
        // Every documented field is answered (no field silently falls through as missing
        // except the optional ones this declaration lacks).
        let absent = [
            "seller",
            "courier",
            "quantity",
            "valuation_z",
            "unit_value_vs_norm",
            "hs_divergence",
            "screening_score",
            "importer_history",
        ];
        for f in DECLARATION_FIELDS {
            let missing = matches!(c.value(f.name), Value::Missing);
            assert_eq!(missing, absent.contains(&f.name), "{}", f.name);
        }
    }
}
