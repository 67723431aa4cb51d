use serde::{Deserialize, Serialize};

/// A declaration field that a source column can map onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    DeclarationId,
    Date,
    Office,
    Declarant,
    Importer,
    Seller,
    Courier,
    HsCode,
    OriginCountry,
    DepartureCountry,
    TransportMode,
    ProcessType,
    ImportType,
    ImportUse,
    PaymentType,
    NetMassKg,
    CustomsValue,
    Currency,
    TaxRate,
    TaxType,
    OriginIndicator,
    Description,
    Quantity,
    QuantityUnit,
    Fraud,
    CriticalLevel,
    AmountRecovered,
}

impl Field {
    pub const ALL: [Field; 27] = [
        Field::DeclarationId,
        Field::Date,
        Field::Office,
        Field::Declarant,
        Field::Importer,
        Field::Seller,
        Field::Courier,
        Field::HsCode,
        Field::OriginCountry,
        Field::DepartureCountry,
        Field::TransportMode,
        Field::ProcessType,
        Field::ImportType,
        Field::ImportUse,
        Field::PaymentType,
        Field::NetMassKg,
        Field::CustomsValue,
        Field::Currency,
        Field::TaxRate,
        Field::TaxType,
        Field::OriginIndicator,
        Field::Description,
        Field::Quantity,
        Field::QuantityUnit,
        Field::Fraud,
        Field::CriticalLevel,
        Field::AmountRecovered,
    ];

    /// The field's name in the generic layout (and in error messages).
    pub fn name(self) -> &'static str {
        match self {
            Field::DeclarationId => "declaration_id",
            Field::Date => "date",
            Field::Office => "office",
            Field::Declarant => "declarant",
            Field::Importer => "importer",
            Field::Seller => "seller",
            Field::Courier => "courier",
            Field::HsCode => "hs_code",
            Field::OriginCountry => "origin_country",
            Field::DepartureCountry => "departure_country",
            Field::TransportMode => "transport_mode",
            Field::ProcessType => "process_type",
            Field::ImportType => "import_type",
            Field::ImportUse => "import_use",
            Field::PaymentType => "payment_type",
            Field::NetMassKg => "net_mass_kg",
            Field::CustomsValue => "customs_value",
            Field::Currency => "currency",
            Field::TaxRate => "tax_rate",
            Field::TaxType => "tax_type",
            Field::OriginIndicator => "origin_indicator",
            Field::Description => "description",
            Field::Quantity => "quantity",
            Field::QuantityUnit => "quantity_unit",
            Field::Fraud => "fraud",
            Field::CriticalLevel => "critical_level",
            Field::AmountRecovered => "amount_recovered",
        }
    }

    /// Fields without which a row cannot be a declaration: a source must map a column to each.
    pub fn is_required(self) -> bool {
        matches!(
            self,
            Field::DeclarationId
                | Field::Date
                | Field::Importer
                | Field::HsCode
                | Field::OriginCountry
                | Field::NetMassKg
                | Field::CustomsValue
        )
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
