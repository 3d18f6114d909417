//! Script metadata: for each bot type, its settings with type, default, bounds, whether they
//! are required, editable on a running bot, or only meaningful in a backtest (the webhook's
//! `signals`: a live definition carrying it is refused by [`crate::settings::validate_live`]).
//! The partner API's `GET /scripts` serves it and the backtest-executor validates requests
//! against it.
//! The keys are exactly the serde names of [`crate::settings`] (a test checks it).

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

pub use crate::vocabulary::ScriptType;

mod tables;

use tables::{dca, grid, webhook};

/// The value type of a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingType {
    /// Text.
    String,
    /// A decimal number.
    Number,
    /// One of `options`.
    Option,
    /// `true` / `false`.
    Boolean,
    /// A JSON array (webhook `signals`).
    Array,
}

/// A setting's default value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingValue {
    /// No default (the setting is required, or optional without one).
    None,
    /// Text or option.
    Text(&'static str),
    /// A number. Serialized as a JSON number (metadata is for display; settings themselves
    /// are read exactly).
    Number(Decimal),
    /// A boolean.
    Bool(bool),
    /// An empty array.
    EmptyArray,
}

impl Serialize for SettingValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::None => s.serialize_none(),
            Self::Text(t) => s.serialize_str(t),
            Self::Number(d) => serialize_number(d, s),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::EmptyArray => s.collect_seq(std::iter::empty::<u8>()),
        }
    }
}

fn serialize_number<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    use rust_decimal::prelude::ToPrimitive;
    match (d.fract().is_zero(), d.to_i64()) {
        (true, Some(i)) => s.serialize_i64(i),
        _ => s.serialize_f64(d.to_f64().unwrap_or_default()),
    }
}

fn serialize_bound<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => serialize_number(d, s),
        None => s.serialize_none(),
    }
}

/// One setting of a script.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingMeta {
    /// The settings key (camelCase).
    pub key: &'static str,
    /// Display group.
    pub group: &'static str,
    /// Display name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Value type.
    #[serde(rename = "type")]
    pub kind: SettingType,
    /// Default value.
    pub value: SettingValue,
    /// Must be given.
    pub required: bool,
    /// Smallest value accepted (numbers).
    #[serde(serialize_with = "serialize_bound")]
    pub min: Option<Decimal>,
    /// Largest value accepted (numbers).
    #[serde(serialize_with = "serialize_bound")]
    pub max: Option<Decimal>,
    /// May be changed on a running bot (`POST /bots/edit`).
    pub can_be_edited: bool,
    /// Allowed values of an option.
    pub options: Vec<&'static str>,
    /// Only used by backtests (e.g. webhook `signals`).
    pub backtest_only: bool,
}

/// A script: a bot type with its settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScriptMeta {
    /// The script type.
    #[serde(rename = "type")]
    pub script_type: ScriptType,
    /// Display name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Its settings.
    pub settings: Vec<SettingMeta>,
}

/// Metadata of every script, in the reference's order.
pub fn scripts() -> Vec<ScriptMeta> {
    ScriptType::ALL.into_iter().map(script).collect()
}

/// Metadata of one script.
pub fn script(t: ScriptType) -> ScriptMeta {
    let (name, description, settings) = match t {
        ScriptType::SpotGrid => {
            ("Spot Grid Bot", "Buy low and sell high 24/7 automatically with just one click.", grid(false))
        }
        ScriptType::FuturesGrid => {
            ("Futures Grid Bot", "Amplify your purchasing power with an advanced version of Grid Trading.", grid(true))
        }
        ScriptType::SpotDca => (
            "Spot Dollar Cost Average Bot",
            "Auto-place spot buy/sell orders for better average price or unwind.",
            dca(false),
        ),
        ScriptType::FuturesDca => (
            "Futures Dollar Cost Average Bot",
            "Auto-place futures buy/sell orders for better average price or unwind.",
            dca(true),
        ),
        ScriptType::Webhook => {
            ("Webhook Bot", "Executed trades based on signals provided by external parties.", webhook())
        }
    };
    ScriptMeta { script_type: t, name, description, settings }
}
