//! Bots: slugs and kinds.

/// Whether `slug` matches `/^[a-zA-Z0-9_-]+$/` (references 000–002).
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_reference_pattern() {
        for good in ["my-bot", "Bot_1", "a", "A-B_c-9"] {
            assert!(is_valid_slug(good), "{good}");
        }
        for bad in ["", "my bot", "bot!", "bøt", "a/b", "a.b"] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }
}
