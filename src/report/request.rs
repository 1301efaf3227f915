//! One request as data: what the runner sends and what a report shows and reproduces
//! (`curl`). It records whether the token was sent, never its value.

use serde::Serialize;

/// One request, as a reproducer needs it. No token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub method: String,
    pub url: String,
    /// Whether `Authorization: Bearer $CONTRACT_TOKEN` is sent.
    pub auth: bool,
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
            auth: true,
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
        }
    }

    /// A PATCH with the token and the page's headers.
    pub fn patch(url: String, body: String) -> Request {
        Request {
            method: "PATCH".into(),
            url,
            auth: true,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body),
        }
    }

    /// The same request without the token.
    pub fn without_auth(mut self) -> Request {
        self.auth = false;
        self
    }

    /// A `curl` command that sends this request, with the token as `$CONTRACT_TOKEN`.
    pub fn curl(&self) -> String {
        let mut out = format!("curl -sS -i -X {} {}", self.method, shell_quote(&self.url));
        if self.auth {
            out.push_str(" -H \"Authorization: Bearer $CONTRACT_TOKEN\"");
        }
        for (k, v) in &self.headers {
            out.push_str(&format!(" -H {}", shell_quote(&format!("{k}: {v}"))));
        }
        if let Some(b) = &self.body {
            out.push_str(&format!(" --data-binary {}", shell_quote(b)));
        }
        out
    }
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
