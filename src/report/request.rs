//! One request as data: what the runner sends and what a report shows and reproduces
//! (`curl`). It records which token was sent (none, the real one, or the real one changed), never its value.

use serde::Serialize;

use crate::generate::{Auth, TokenChange};

/// One request, as a reproducer needs it. No token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub method: String,
    pub url: String,
    /// Which bearer token is sent (`none`, `token`, or `{"changed": "last-character"}`); never
    /// its value.
    pub auth: Auth,
    /// Extra headers (Content-Type, Accept, Prefer).
    pub headers: Vec<(String, String)>,
    /// The body as sent, when there is one.
    pub body: Option<String>,
}

impl Request {
    /// A GET with the token.
    pub fn get(url: String) -> Request {
        Request {
            method: "GET".into(),
            url,
            auth: Auth::Token,
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
        }
    }

    /// A PATCH with the token and the page's headers.
    pub fn patch(url: String, body: String) -> Request {
        Request {
            method: "PATCH".into(),
            url,
            auth: Auth::Token,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body),
        }
    }

    /// The same request without the token.
    pub fn without_auth(mut self) -> Request {
        self.auth = Auth::None;
        self
    }

    /// The same request with the real token changed as `how` says.
    pub fn with_changed_token(mut self, how: TokenChange) -> Request {
        self.auth = Auth::Changed(how);
        self
    }

    /// A `curl` command that sends this request, with the token as `$CONTRACT_TOKEN`.
    pub fn curl(&self) -> String {
        let mut out = format!("curl -sS -i -X {} {}", self.method, shell_quote(&self.url));
        match self.auth {
            Auth::None => {}
            Auth::Token | Auth::Changed(_) => out.push_str(" -H \"Authorization: Bearer $CONTRACT_TOKEN\""),
        }
        for (k, v) in &self.headers {
            out.push_str(&format!(" -H {}", shell_quote(&format!("{k}: {v}"))));
        }
        if let Some(b) = &self.body {
            out.push_str(&format!(" --data-binary {}", shell_quote(b)));
        }
        if let Auth::Changed(how) = self.auth {
            // How the token was changed, never what it became (the changed token shows most of
            // the real one); a shell comment, so the line still runs.
            out.push_str(&format!("  # sent with $CONTRACT_TOKEN {}", how.words()));
        }
        out
    }
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
