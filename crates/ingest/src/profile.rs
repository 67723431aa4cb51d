use crate::Field;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// How a source layout maps onto declaration fields: source column name per field, plus
/// constant defaults for fields the source does not carry (e.g. the currency of a national
/// extract).
///
/// Two layouts are built in: [`Profile::korea_customs`] (the bundled Korea Customs Service
/// extract) and [`Profile::generic`] (column names equal to [`Field::name`], documented in the
/// README). Others load from a JSON file:
///
/// ```json
/// {"name": "my-broker", "columns": {"declaration_id": "Entry No", "date": "Entry Date", ...},
///  "defaults": {"currency": "USD"}}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub columns: BTreeMap<Field, String>,
    pub defaults: BTreeMap<Field, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("profile {path} is not valid JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("profile {path}: unknown declaration field {field:?} (known: {known})")]
    UnknownField {
        path: String,
        field: String,
        known: String,
    },
    #[error("profile {path}: default for {field} is unusable: {reason}")]
    BadDefault {
        path: String,
        field: Field,
        reason: String,
    },
    #[error("profile file not found: {0}")]
    NotFound(String),
    #[error("unknown profile {0:?}: use korea-customs, generic or a path to a JSON profile")]
    Unknown(String),
}

#[derive(Deserialize)]
struct ProfileFile {
    name: Option<String>,
    columns: BTreeMap<String, String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
}

impl Profile {
    /// The Korea Customs Service synthetic declarations layout (values in KRW).
    pub fn korea_customs() -> Profile {
        use Field::*;
        let columns = [
            (DeclarationId, "Declaration ID"),
            (Date, "Date"),
            (Office, "Office ID"),
            (ProcessType, "Process Type"),
            (ImportType, "Import Type"),
            (ImportUse, "Import Use"),
            (PaymentType, "Payment Type"),
            (TransportMode, "Mode of Transport"),
            (Declarant, "Declarant ID"),
            (Importer, "Importer ID"),
            (Seller, "Seller ID"),
            (Courier, "Courier ID"),
            (HsCode, "HS6 Code"),
            (DepartureCountry, "Country of Departure"),
            (OriginCountry, "Country of Origin"),
            (TaxRate, "Tax Rate"),
            (TaxType, "Tax Type"),
            (OriginIndicator, "Country of Origin Indicator"),
            (NetMassKg, "Net Mass"),
            (CustomsValue, "Item Price"),
            (Fraud, "Fraud"),
            (CriticalLevel, "Critical Fraud"),
        ]
        .into_iter()
        .map(|(f, c)| (f, c.to_string()))
        .collect();
        Profile {
            name: "korea-customs".into(),
            columns,
            defaults: [(Field::Currency, "KRW".to_string())].into_iter().collect(),
        }
    }

    /// The documented generic layout: one column per field, named as [`Field::name`].
    pub fn generic() -> Profile {
        Profile {
            name: "generic".into(),
            columns: Field::ALL
                .iter()
                .map(|f| (*f, f.name().to_string()))
                .collect(),
            defaults: BTreeMap::new(),
        }
    }

    /// `korea-customs`, `generic`, or a path to a JSON profile file.
    pub fn resolve(spec: &str) -> Result<Profile, ProfileError> {
        match spec {
            "korea-customs" | "korea" | "kcs" => Ok(Profile::korea_customs()),
            "generic" => Ok(Profile::generic()),
            path if Path::new(path).is_file() => Profile::from_json_file(Path::new(path)),
            // Anything shaped like a path is a file the user meant, not a profile name.
            path if path.contains(['/', '\\']) || path.to_ascii_lowercase().ends_with(".json") => {
                Err(ProfileError::NotFound(path.to_string()))
            }
            other => Err(ProfileError::Unknown(crate::reader::bounded(other))),
        }
    }

    pub fn from_json_file(path: &Path) -> Result<Profile, ProfileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ProfileError::NotFound(shown.clone()),
            _ => ProfileError::Io {
                path: shown.clone(),
                source,
            },
        })?;
        Profile::from_json_str(&text, &shown)
    }

    /// Parses a JSON profile; `shown` names it in errors (and is its name when it has none).
    pub fn from_json_str(text: &str, shown: &str) -> Result<Profile, ProfileError> {
        let shown = shown.to_string();
        let file: ProfileFile =
            serde_json::from_str(text).map_err(|source| ProfileError::Json {
                path: shown.clone(),
                source,
            })?;
        let field = |name: String| {
            Field::from_name(&name).ok_or_else(|| ProfileError::UnknownField {
                path: shown.clone(),
                field: crate::reader::bounded(&name),
                known: Field::ALL.map(|f| f.name()).join(", "),
            })
        };
        let mut columns = BTreeMap::new();
        for (k, v) in file.columns {
            columns.insert(field(k)?, v);
        }
        let mut defaults = BTreeMap::new();
        for (k, v) in file.defaults {
            let f = field(k)?;
            // A bad constant would otherwise quarantine every row of every file.
            crate::reader::check_value(f, &v).map_err(|reason| ProfileError::BadDefault {
                path: shown.clone(),
                field: f,
                reason,
            })?;
            defaults.insert(f, v);
        }
        Ok(Profile {
            name: file.name.unwrap_or(shown),
            columns,
            defaults,
        })
    }
}
