//! Masking the bearer token by origin: only text that came from the target (answer bodies,
//! keys, headers, what a message quotes of them, a saved baseline) is masked, and only in what is
//! shown and written; the tool's own words, ids, URLs and the bodies it sent never are. A check
//! records where its values came from ([`Origin`]); [`Redactor::check`] reads it.

use serde_json::Value;

use crate::report::Check;

/// What a masked token is written as.
pub const PLACEHOLDER: &str = "$CONTRACT_TOKEN";

/// Tokens shorter than this are masked only where a whole value, a whole word or
/// `Bearer <token>` equals them ([`Rule::Whole`]); longer ones at every occurrence.
pub const SHORT_TOKEN: usize = 8;

/// How the token is found in text that came from the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A token of [`SHORT_TOKEN`] characters or more: every occurrence.
    Everywhere,
    /// A shorter token (`t`, `dev`, `1`): only a whole string value, a whole word (bounded by
    /// non-alphanumeric characters or the ends) or `Bearer <token>`. Masking every occurrence
    /// would make answers unreadable (every `t` of every word).
    Whole,
}

/// Masks the token by origin in what is shown and written: only text that came from the target
/// (answer bodies, keys, headers, what a message quotes of them, a saved baseline) is masked,
/// never the tool's own words, ids, URLs or the bodies it sent. Never applied to what a check
/// judges: a token that occurs in the data (a short local token such as `dev`, an id equal to
/// the token) must not turn a correct answer into a failure.
#[derive(Clone, Copy)]
pub struct Redactor<'a> {
    token: &'a str,
    rule: Rule,
}

/// Where the values of a check came from, so that [`Redactor::check`] masks only the target's.
/// Not written to any report.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Origin {
    /// `expected` and `actual` hold the target's values (its answers, the baseline, the object
    /// it holds).
    #[default]
    Target,
    /// As [`Origin::Target`], but for the update the tool sent: its values and keys are the
    /// tool's own wherever a side holds them unchanged at their pointers.
    Sent(Value),
    /// `expected` is the tool's own words (a status it expects); `actual` is the target's.
    Expectation,
    /// Both sides are the tool's own words; what they quote of an answer was masked when
    /// they were written.
    Words,
}

impl<'a> Redactor<'a> {
    /// The masker of `token`, by its length's rule.
    pub fn new(token: &'a str) -> Redactor<'a> {
        let rule = if token.chars().count() < SHORT_TOKEN { Rule::Whole } else { Rule::Everywhere };
        Redactor { token, rule }
    }

    /// The rule this token is masked by.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// Whether there is a token to mask.
    fn active(&self) -> bool {
        !self.token.is_empty()
    }

    /// Target text (a quoted fragment, a header, a string value) with the token masked by
    /// the rule.
    pub fn quoted(&self, text: &str) -> String {
        if !self.active() || !text.contains(self.token) {
            return text.to_string();
        }
        match self.rule {
            Rule::Everywhere => everywhere(text, self.token),
            Rule::Whole => whole(text, self.token),
        }
    }

    /// A JSON value quoted from an answer, rendered as JSON with its strings and keys masked.
    pub fn quoted_json(&self, value: &Value, known: &dyn Fn(&str) -> bool) -> String {
        let mut v = value.clone();
        self.answer(&mut v, None, known);
        v.to_string()
    }

    /// Text that is the tool's own words around library messages (an I/O or TLS error, which
    /// may quote the target in ways the tool cannot delimit): a long token is masked at every
    /// occurrence, a short one is left (its words are the tool's).
    pub fn sweep(&self, text: &str) -> String {
        match self.rule {
            Rule::Everywhere if self.active() && text.contains(self.token) => everywhere(text, self.token),
            _ => text.to_string(),
        }
    }

    /// A key (or pointer segment) of an answer: left when `known` names it (a property of the
    /// contract, a Graph error's field, an OData annotation), else masked like a string value.
    fn key(&self, key: &str, known: &dyn Fn(&str) -> bool) -> Option<String> {
        if !self.active() || !key.contains(self.token) || known(key) {
            return None;
        }
        let masked = self.quoted(key);
        (masked != key).then_some(masked)
    }

    /// A JSON pointer the tool built over an answer: each segment that is not a name the
    /// contract knows (nor, for a short token, an array index) is masked as a key.
    pub fn pointer(&self, pointer: &str, known: &dyn Fn(&str) -> bool) -> String {
        if !self.active() || !pointer.contains(self.token) {
            return pointer.to_string();
        }
        let mut out = String::with_capacity(pointer.len());
        for (i, segment) in pointer.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            let name = segment.replace("~1", "/").replace("~0", "~");
            let index = self.rule == Rule::Whole && !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit());
            match self.key(&name, known).filter(|_| !index) {
                Some(m) => out.push_str(&m.replace('~', "~0").replace('/', "~1")),
                None => out.push_str(segment),
            }
        }
        out
    }

    /// Masks the strings and keys of a value that came from the target, in place; `sent` is
    /// what the tool sent at the same place (a string equal to it is the tool's own, as is a
    /// key it holds). Returns whether it masked anything.
    pub fn answer(&self, value: &mut Value, sent: Option<&Value>, known: &dyn Fn(&str) -> bool) -> bool {
        if !self.active() || sent == Some(value) {
            return false;
        }
        match value {
            Value::String(s) => {
                let masked = self.quoted(s);
                let found = masked != *s;
                *s = masked;
                found
            }
            Value::Array(items) => {
                let sent = sent.and_then(Value::as_array);
                let mut found = false;
                for (i, x) in items.iter_mut().enumerate() {
                    found |= self.answer(x, sent.and_then(|s| s.get(i)), known);
                }
                found
            }
            Value::Object(map) => {
                let sent = sent.and_then(Value::as_object);
                let mut found = false;
                for (k, x) in map.iter_mut() {
                    found |= self.answer(x, sent.and_then(|s| s.get(k)), known);
                }
                let own = |k: &str| known(k) || sent.is_some_and(|s| s.contains_key(k));
                if map.keys().any(|k| self.key(k, &own).is_some()) {
                    found = true;
                    *map = std::mem::take(map).into_iter().map(|(k, x)| (self.key(&k, &own).unwrap_or(k), x)).collect();
                }
                found
            }
            _ => false,
        }
    }

    /// A baseline saved to a file (the user's data, to be PATCHed back): a long token is masked
    /// at every occurrence in its strings and keys, a short one only in a string value that
    /// equals it. Returns whether it masked anything.
    pub fn baseline(&self, value: &mut Value) -> bool {
        match self.rule {
            Rule::Everywhere => self.answer(value, None, &|_| false),
            Rule::Whole => whole_values(value, self.token),
        }
    }

    /// Masks every shown part of a judged check that came from the target: `expected` and
    /// `actual` by their [`Origin`], the differences (values by the side they stand for,
    /// pointers segment by segment), the body of a restoring PATCH (the baseline is the
    /// target's), and with a long token the problems, note and signature at every occurrence
    /// (what they quote of an answer was masked when they were written; a library's message
    /// may quote it too). Its identity (route, phase, case id, name) and the requests the tool
    /// made are the tool's own. `known` names the contract's properties.
    pub fn check(&self, check: &mut Check, known: &dyn Fn(&str) -> bool) {
        if !self.active() {
            return;
        }
        let origin = std::mem::take(&mut check.origin);
        let sent = match &origin {
            Origin::Sent(v) => Some(v),
            _ => None,
        };
        for d in &mut check.differences {
            let at = |v: Option<&Value>| v.and_then(|v| v.pointer(&d.pointer)).cloned();
            let sent_here = at(sent);
            if matches!(origin, Origin::Target | Origin::Sent(_)) {
                if let Some(e) = &mut d.expected {
                    self.answer(e, sent_here.as_ref(), known);
                }
            }
            if !matches!(origin, Origin::Words) {
                if let Some(a) = &mut d.actual {
                    self.answer(a, sent_here.as_ref(), known);
                }
            }
            d.pointer = self.pointer(&d.pointer, known);
        }
        match origin {
            Origin::Target | Origin::Sent(_) => {
                for v in [&mut check.expected, &mut check.actual].into_iter().flatten() {
                    self.answer(v, sent, known);
                }
            }
            Origin::Expectation => {
                if let Some(a) = &mut check.actual {
                    self.answer(a, None, known);
                }
            }
            Origin::Words => {}
        }
        if let Some(r) = check.request.as_mut().filter(|_| check.phase == crate::report::Phase::Restore) {
            // The restoring PATCH sends the baseline: the target's values.
            if let Some(b) = &mut r.body {
                if let Ok(mut v) = serde_json::from_str::<Value>(b) {
                    if self.answer(&mut v, None, known) {
                        *b = v.to_string();
                    }
                }
            }
        }
        check.problems.iter_mut().for_each(|p| *p = self.sweep(p));
        if let Some(n) = &mut check.note {
            *n = self.sweep(n);
        }
        if let Some(s) = &mut check.signature {
            *s = self.sweep(s);
        }
    }
}

/// `text` with every occurrence of `token` replaced by [`PLACEHOLDER`], and no occurrence left
/// (the placeholder itself may hold a long token such as `CONTRACT`: `<token>` is used then).
fn everywhere(text: &str, token: &str) -> String {
    let placeholder = if PLACEHOLDER.contains(token) { "<token>" } else { PLACEHOLDER };
    let mut out = text.replace(token, placeholder);
    // Each pass shortens the text when the placeholder is shorter than the token; a longer
    // placeholder holds no token, and a replacement cannot make a new occurrence span it
    // unless the token holds the placeholder's own characters.
    let mut guard = 0;
    while out.contains(token) && guard < 8 {
        out = out.replace(token, "<token>");
        guard += 1;
    }
    if out.contains(token) {
        out = out.replace(token, "");
    }
    out
}

/// Whether `c` may stand beside a whole word (it is no letter or digit).
fn boundary(c: Option<char>) -> bool {
    c.is_none_or(|c| !c.is_alphanumeric())
}

/// `text` with `token` replaced where it is a whole word (bounded by non-alphanumeric
/// characters or the ends) or follows `Bearer ` up to a character a bearer token cannot hold.
/// The placeholder itself is never masked again.
fn whole(text: &str, token: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pieces = text.split(PLACEHOLDER).peekable();
    while let Some(piece) = pieces.next() {
        let mut rest = 0;
        let mut from = 0;
        while let Some(i) = piece[from..].find(token).map(|i| i + from) {
            let end = i + token.len();
            let before = piece[..i].chars().next_back();
            let after = piece[end..].chars().next();
            let bearer =
                i.checked_sub(7).and_then(|b| piece.get(b..i)).is_some_and(|b| b.eq_ignore_ascii_case("bearer "));
            let credential_ends = after.is_none_or(|c| !(c.is_ascii_alphanumeric() || "-._~+/=".contains(c)));
            let masked = (boundary(before) && boundary(after)) || (bearer && credential_ends);
            if masked {
                out.push_str(&piece[rest..i]);
                out.push_str(PLACEHOLDER);
                rest = end;
            }
            // On past a masked word; one character on past a part of a word (an overlapping
            // occurrence may still be a whole word).
            from = if masked { end } else { i + piece[i..].chars().next().map_or(1, char::len_utf8) };
            if from >= piece.len() {
                break;
            }
        }
        out.push_str(&piece[rest..]);
        if pieces.peek().is_some() {
            out.push_str(PLACEHOLDER);
        }
    }
    out
}

/// Masks the string values equal to `token` (not keys, not parts of strings), in place.
fn whole_values(v: &mut Value, token: &str) -> bool {
    match v {
        Value::String(s) if s == token => {
            *s = PLACEHOLDER.to_string();
            true
        }
        Value::Array(a) => a.iter_mut().fold(false, |found, x| whole_values(x, token) | found),
        Value::Object(o) => o.values_mut().fold(false, |found, x| whole_values(x, token) | found),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(k: &str) -> bool {
        ["id", "deviceName", "osDescription", "status"].contains(&k)
    }

    #[test]
    fn a_short_token_is_masked_only_as_a_whole_value_word_or_bearer() {
        let m = Redactor::new("t");
        assert_eq!(m.rule(), Rule::Whole);
        assert_eq!(m.quoted("the object differs"), "the object differs");
        assert_eq!(m.quoted("t"), PLACEHOLDER);
        assert_eq!(
            m.quoted("don't stop: t, Bearer t"),
            "don'$CONTRACT_TOKEN stop: $CONTRACT_TOKEN, Bearer $CONTRACT_TOKEN"
        );
        let id = Redactor::new("1");
        assert_eq!(id.quoted("status-1"), "status-$CONTRACT_TOKEN");
        assert_eq!(id.quoted("status-10 v1.1 1"), "status-10 v1.$CONTRACT_TOKEN $CONTRACT_TOKEN");
        // The placeholder is never masked again (TOKEN is a whole word of it).
        let token = Redactor::new("TOKEN");
        assert_eq!(token.quoted(&token.quoted("a TOKEN")), "a $CONTRACT_TOKEN");
        // Bearer <token> up to a character a bearer token cannot hold.
        let dash = Redactor::new("-x");
        assert_eq!(dash.quoted("Bearer -x"), "Bearer $CONTRACT_TOKEN");
        assert_eq!(dash.quoted("a-xb"), "a-xb");
        // Multi-byte text around it, also before `Bearer`'s place.
        assert_eq!(Redactor::new("é").quoted("é, fée"), "$CONTRACT_TOKEN, fée");
        assert_eq!(Redactor::new("x").quoted("éééé x"), "éééé $CONTRACT_TOKEN");
        // An occurrence overlapping a rejected one is still found.
        assert_eq!(Redactor::new("-x-").quoted("a-x-x- "), "a-x-x- ");
        assert_eq!(Redactor::new("aa").quoted("aaa aa"), "aaa $CONTRACT_TOKEN");
    }

    #[test]
    fn a_long_token_is_masked_at_every_occurrence_and_never_left() {
        let m = Redactor::new("s3cr3t-long");
        assert_eq!(m.rule(), Rule::Everywhere);
        assert_eq!(m.quoted("xs3cr3t-longy"), "x$CONTRACT_TOKENy");
        // A token inside the placeholder gets another one, and none is left.
        for t in ["CONTRACT", "$CONTRACT_TOKEN", "CONTRACT_TOKEN"] {
            let out = Redactor::new(t).quoted(&format!("a{t}b {PLACEHOLDER}"));
            assert!(!out.contains(t), "{t}: {out}");
        }
        // A library's message: swept for a long token, left for a short one.
        assert_eq!(m.sweep("TLS: s3cr3t-long"), "TLS: $CONTRACT_TOKEN");
        assert_eq!(Redactor::new("e").sweep("the exchange broke off"), "the exchange broke off");
    }

    #[test]
    fn answers_are_masked_apart_from_what_the_tool_sent_and_the_contract_names() {
        let m = Redactor::new("id");
        let mut answer =
            serde_json::json!({"id": "id", "deviceName": "my id", "id x": ["id", "idx"], "osDescription": "id"});
        let sent = serde_json::json!({"osDescription": "id"});
        assert!(m.answer(&mut answer, Some(&sent), &known));
        assert_eq!(
            answer,
            serde_json::json!({"id": "$CONTRACT_TOKEN", "deviceName": "my $CONTRACT_TOKEN", "$CONTRACT_TOKEN x": ["$CONTRACT_TOKEN", "idx"], "osDescription": "id"})
        );
        // Pointers: declared names and (short token) array indices are the tool's.
        assert_eq!(m.pointer("/id/id x/0", &known), "/id/$CONTRACT_TOKEN x/0");
        assert_eq!(Redactor::new("1").pointer("/tags/1/1 a", &known), "/tags/1/$CONTRACT_TOKEN a");
        let long = Redactor::new("a-long-secret");
        assert_eq!(long.pointer("/x~1a-long-secret", &known), "/x~1$CONTRACT_TOKEN");
    }

    #[test]
    fn a_saved_baseline_with_a_short_token_is_masked_only_in_whole_values() {
        let mut b = serde_json::json!({"dev": "dev", "deviceName": "dev box", "tags": ["dev"]});
        assert!(Redactor::new("dev").baseline(&mut b));
        assert_eq!(
            b,
            serde_json::json!({"dev": "$CONTRACT_TOKEN", "deviceName": "dev box", "tags": ["$CONTRACT_TOKEN"]})
        );
        let mut long = serde_json::json!({"k a-long-secret": "Bearer a-long-secret"});
        assert!(Redactor::new("a-long-secret").baseline(&mut long));
        assert_eq!(long, serde_json::json!({"k $CONTRACT_TOKEN": "Bearer $CONTRACT_TOKEN"}));
        assert!(!Redactor::new("dev").baseline(&mut serde_json::json!({"a": "b"})));
    }
}
