//! The three API families: which one a path belongs to decides the shape of its errors.

/// An API family (docs/architecture.md#api-families).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `/api/bots/...`: `{error, code}` bodies.
    Bot,
    /// `/partner/v1/...`: the `{isSuccess, code, message, data}` envelope.
    Partner,
    /// Root paths: `{error, message}` with snake_case codes.
    User,
}

impl Family {
    /// The family a request path belongs to.
    pub fn of(path: &str) -> Self {
        if path == "/api/bots" || path.starts_with("/api/bots/") {
            Family::Bot
        } else if path == "/partner/v1" || path.starts_with("/partner/v1/") {
            Family::Partner
        } else {
            Family::User
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_family() {
        assert_eq!(Family::of("/api/bots/alpha/trades"), Family::Bot);
        assert_eq!(Family::of("/partner/v1/bots/list"), Family::Partner);
        assert_eq!(Family::of("/bots/7"), Family::User);
        assert_eq!(Family::of("/api/botsy"), Family::User);
    }
}
