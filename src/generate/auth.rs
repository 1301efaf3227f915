//! Which bearer token a request sends, and how the negative pass changes the real one: data the
//! generated cases choose and every later stage (the request, the target, the reports) reads.

use serde::Serialize;

/// Which bearer token a request sends: none, the real one, or the real one changed (the
/// `wrong-token/*` negative cases). The changed token is made by [`Target::send`] from the real
/// one and never stored, shown or written: a request records only *how* it was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer $CONTRACT_TOKEN`.
    Token,
    /// `Authorization: Bearer` and the real token changed as said.
    Changed(TokenChange),
}

/// How the real token is changed into a wrong one. Each change keeps the token's length or
/// alphabet plausible, so that a service that checks only the shape of a token (present,
/// non-empty, base64url) still has to check its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenChange {
    /// The last character replaced by another one of its class (a base64url digit by the one
    /// whose value differs in its highest bit, so the decoded bytes differ even where the last
    /// digit's low bits are padding, as in a JWT's signature).
    LastCharacter,
    /// One character (`A`) appended: a service that compares only a prefix, or only as many
    /// characters as the real token has, accepts it.
    Appended,
}

impl TokenChange {
    /// Every change, in the order the negative pass sends them.
    pub const ALL: [TokenChange; 2] = [TokenChange::LastCharacter, TokenChange::Appended];

    /// The change in a case id (`wrong-token/last-character`).
    pub fn id(self) -> &'static str {
        match self {
            TokenChange::LastCharacter => "last-character",
            TokenChange::Appended => "appended",
        }
    }

    /// The change in words, after "the real token".
    pub fn words(self) -> &'static str {
        match self {
            TokenChange::LastCharacter => "with its last character changed",
            TokenChange::Appended => "with one character appended",
        }
    }

    /// The real token changed: never equal to it.
    pub fn apply(self, token: &str) -> String {
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        match self {
            TokenChange::Appended => format!("{token}A"),
            TokenChange::LastCharacter => {
                let mut chars: Vec<char> = token.chars().collect();
                let Some(last) = chars.pop() else { return "A".into() };
                let other = match last {
                    // `+` and `/` are standard base64's 62 and 63.
                    '+' => 'e',
                    '/' => 'f',
                    c => match B64.iter().position(|b| char::from(*b) == c) {
                        Some(v) => char::from(B64[v ^ 32]),
                        None => 'A',
                    },
                };
                chars.push(other);
                chars.into_iter().collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_token_is_never_the_real_one() {
        for token in ["", "a", "dev", "graph-contract-local-token", "abc+", "abc/", "x.y=", "ünï", "eyJ.eyJ.sig_-"] {
            for how in TokenChange::ALL {
                let changed = how.apply(token);
                assert_ne!(changed, token, "{how:?} of {token:?}");
                assert!(!changed.is_empty());
            }
            if !token.is_empty() {
                let changed = TokenChange::LastCharacter.apply(token);
                assert_eq!(changed.chars().count(), token.chars().count(), "{token:?}");
                assert!(changed.starts_with(&token[..token.len() - token.chars().last().map_or(0, char::len_utf8)]));
            }
        }
        // A base64url digit becomes the one 32 away: its highest bit differs, never only the
        // low bits a decoder may drop as padding.
        assert_eq!(TokenChange::LastCharacter.apply("sigQ"), "sigw");
        assert_eq!(TokenChange::LastCharacter.apply("sigw"), "sigQ");
        assert_eq!(TokenChange::LastCharacter.apply("sig_"), "sigf");
        assert_eq!(TokenChange::Appended.apply("tok"), "tokA");
    }
}
