//! Errors a caller can act on.

/// A setting that failed validation. `field` is the setting's reference name (camelCase), so
/// the caller can answer "validation failed" naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The setting's name, e.g. `gridCount` or `signals[3].action`.
    pub field: String,
    /// Why it is invalid.
    pub reason: String,
}

impl ValidationError {
    /// A validation error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// Why a run could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The bot settings are invalid.
    #[error("validation failed: {0}")]
    Settings(#[from] ValidationError),
    /// The run configuration is invalid (fee rate, balances, sizes).
    #[error("invalid run configuration: {0}")]
    Config(String),
    /// The market specification is invalid.
    #[error("invalid market: {0}")]
    Market(String),
    /// A checkpoint given to `Engine::restore` is not a consistent engine state.
    #[error("invalid checkpoint: {0}")]
    Checkpoint(String),
}
