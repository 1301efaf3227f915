//! Waivers: known deviations a team has chosen to live with for a while. A waiver names checks
//! by patterns over their id (route, phase, case id, check name), says why, and may say until
//! when. A waived failure is reported as waived and does not fail the run; a waiver that
//! matched no failure in a run that reached its checks, or that has expired, fails the run (as a
//! strict xfail does), so a waiver never outlives the deviation it was written for.
//!
//! The file (`cases/waivers.json` by default, `--waivers FILE`, `CONTRACT_WAIVERS`):
//!
//! ```json
//! {
//!   "version": 1,
//!   "waivers": [
//!     {
//!       "case": "enum-case/*",
//!       "check": "refused",
//!       "reason": "our OData stack accepts enum names in any case (TICKET-123)",
//!       "until": "2027-06-30"
//!     }
//!   ]
//! }
//! ```
//!
//! `route`, `phase`, `case` and `check` are patterns where `*` stands for any run of characters
//! (`/` included) and every other character for itself; a field left out matches anything, but
//! a waiver must name at least one. `until` is the last day (UTC) the waiver holds. No I/O.

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::report::{Check, Phase};

/// The version of the waiver file format.
pub const WAIVER_VERSION: u64 = 1;

/// A waiver file that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WaiverError {
    #[error("waiver file {file}: not valid JSON at line {line}: {message}")]
    Parse { file: String, line: usize, message: String },
    #[error("waiver file {file}: {message}")]
    Shape { file: String, message: String },
    #[error("waiver file {file}: waiver #{entry}: {field}: {message}")]
    Field { file: String, entry: usize, field: String, message: String },
}

/// A pattern over one part of a check's id: `*` is any run of characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Pattern(String);

impl Pattern {
    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let parts: Vec<&str> = self.0.split('*').collect();
        let (first, rest) = parts.split_first().map_or(("", &[][..]), |(f, r)| (*f, r));
        let Some(mut left) = text.strip_prefix(first) else { return false };
        let Some((last, middle)) = rest.split_last() else { return left.is_empty() };
        for part in middle {
            match left.find(part) {
                Some(i) => left = &left[i + part.len()..],
                None => return false,
            }
        }
        left.len() >= last.len() && left.ends_with(last)
    }

    fn any(&self) -> bool {
        self.0.chars().all(|c| c == '*')
    }
}

/// One waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiver {
    /// Its place in the file, from 1.
    pub entry: usize,
    pub route: Pattern,
    pub phase: Pattern,
    pub case: Pattern,
    pub check: Pattern,
    pub reason: String,
    /// The last day it holds (`YYYY-MM-DD`, UTC).
    pub until: Option<String>,
}

impl Waiver {
    /// Whether the waiver names `check`.
    pub fn names(&self, check: &Check) -> bool {
        self.route.matches(&check.route)
            && self.phase.matches(check.phase.name())
            && self.case.matches(&check.case_id)
            && self.check.matches(&check.name)
    }

    /// The patterns as one line: `route · phase · case · check`.
    pub fn pattern(&self) -> String {
        format!("{} · {} · {} · {}", self.route.0, self.phase.0, self.case.0, self.check.0)
    }
}

/// The waivers of one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Waivers {
    /// The file they came from (as given).
    pub file: String,
    pub waivers: Vec<Waiver>,
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| s.get(r).filter(|p| p.bytes().all(|c| c.is_ascii_digit()))?.parse::<u32>().ok();
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            (1..=12).contains(&m) && d >= 1 && d <= crate::contract::datetime::days_in_month(i64::from(y), m)
        }
        _ => false,
    }
}

impl Waivers {
    /// The reason of the first waiver in force on `today` that names `check` (a failure), as
    /// [`Tracker::apply`] would mark it, without counting anything: a worker of the runner
    /// decides with it which failures are its own to shrink.
    pub fn waiving(&self, check: &Check, today: &str) -> Option<&str> {
        self.waivers
            .iter()
            .find(|w| w.names(check) && w.until.as_deref().is_none_or(|u| today <= u))
            .map(|w| w.reason.as_str())
    }

    /// Parses a waiver file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Waivers, WaiverError> {
        let root: Value = serde_json::from_str(text).map_err(|e| WaiverError::Parse {
            file: file.into(),
            line: e.line(),
            message: e.to_string(),
        })?;
        let shape = |message: &str| WaiverError::Shape { file: file.into(), message: message.into() };
        let Value::Object(root) = root else {
            return Err(shape("expected a JSON object with \"version\": 1 and a \"waivers\" array"));
        };
        for k in root.keys() {
            if k != "version" && k != "waivers" {
                return Err(shape(&format!("unknown field {k:?} (allowed: version, waivers)")));
            }
        }
        match root.get("version") {
            Some(v) if v.as_u64() == Some(WAIVER_VERSION) => {}
            Some(v) => return Err(shape(&format!("version {v} is not supported (write \"version\": 1)"))),
            None => return Err(shape("missing \"version\": 1")),
        }
        let Some(Value::Array(entries)) = root.get("waivers") else {
            return Err(shape("missing \"waivers\", an array of waivers"));
        };
        let mut waivers = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let n = i + 1;
            let field = |field: &str, message: String| WaiverError::Field {
                file: file.into(),
                entry: n,
                field: field.into(),
                message,
            };
            let Value::Object(m) = entry else {
                return Err(field("(entry)", "expected an object with the patterns, a reason and maybe until".into()));
            };
            for k in m.keys() {
                if !["route", "phase", "case", "check", "reason", "until"].contains(&k.as_str()) {
                    return Err(field(k, "unknown field (allowed: route, phase, case, check, reason, until)".into()));
                }
            }
            let text = |name: &str| -> Result<Option<String>, WaiverError> {
                match m.get(name) {
                    None => Ok(None),
                    Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
                    Some(v) => Err(field(name, format!("expected a non-empty string, got {v}"))),
                }
            };
            let pattern =
                |name: &str| -> Result<Pattern, WaiverError> { Ok(Pattern(text(name)?.unwrap_or_else(|| "*".into()))) };
            let (route, phase, case, check) =
                (pattern("route")?, pattern("phase")?, pattern("case")?, pattern("check")?);
            if [&route, &phase, &case, &check].iter().all(|p| p.any()) {
                return Err(field(
                    "case",
                    "a waiver must name the checks it waives: give route, phase, case or check (a waiver of everything would switch the gate off)".into(),
                ));
            }
            if !Phase::ALL.iter().any(|p| phase.matches(p.name())) {
                let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
                return Err(field("phase", format!("{:?} matches no phase ({})", phase.0, names.join(", "))));
            }
            let Some(reason) = text("reason")? else {
                return Err(field("reason", "missing: say why the deviation is accepted (a ticket, an owner)".into()));
            };
            let until = text("until")?;
            if let Some(u) = &until {
                if !valid_date(u) {
                    return Err(field(
                        "until",
                        format!("{u:?} is not a date (write YYYY-MM-DD, the last day it holds)"),
                    ));
                }
            }
            waivers.push(Waiver { entry: n, route, phase, case, check, reason, until });
        }
        Ok(Waivers { file: file.into(), waivers })
    }
}

/// How a waiver fared in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaiverState {
    /// It waived at least one failure.
    Used,
    /// Its checks ran and none failed: the deviation is gone (fails the run).
    Unused,
    /// Its `until` has passed (fails the run; its failures count).
    Expired,
    /// None of its checks ran (a replay, a budget, another route): nothing to say.
    NotReached,
}

/// One waiver and what it did in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaiverOutcome {
    pub file: String,
    pub entry: usize,
    /// `route · phase · case · check`.
    pub pattern: String,
    pub reason: String,
    pub until: Option<String>,
    pub state: WaiverState,
    /// Checks it named that ran.
    pub reached: usize,
    /// Failures it waived.
    pub waived: usize,
    /// The check ids of the first failures it waived.
    pub examples: Vec<String>,
}

impl WaiverOutcome {
    /// Whether this outcome fails the run.
    pub fn fails(&self) -> bool {
        matches!(self.state, WaiverState::Unused | WaiverState::Expired)
    }

    /// What to do about it, in words (`None` when nothing is wrong).
    pub fn problem(&self) -> Option<String> {
        let at = format!("waiver #{} in {} ({})", self.entry, self.file, self.pattern);
        match self.state {
            WaiverState::Unused => Some(format!(
                "{at}: waiver no longer needed, remove it ({} of its checks ran and none failed)",
                self.reached
            )),
            WaiverState::Expired => Some(format!(
                "{at}: the waiver expired on {}: fix the service, or extend `until` with a reason",
                self.until.as_deref().unwrap_or("?")
            )),
            WaiverState::Used | WaiverState::NotReached => None,
        }
    }
}

/// The waivers of a run, counting what they match as checks go by.
#[derive(Debug, Clone)]
pub struct Tracker {
    waivers: Waivers,
    /// Today (`YYYY-MM-DD`, UTC): later than `until` means expired.
    today: String,
    reached: Vec<usize>,
    waived: Vec<usize>,
    examples: Vec<Vec<String>>,
}

/// How many waived check ids an outcome keeps.
const EXAMPLES: usize = 3;

impl Tracker {
    /// Tracks `waivers` in a run on `today` (`YYYY-MM-DD`).
    pub fn new(waivers: Waivers, today: &str) -> Tracker {
        let n = waivers.waivers.len();
        Tracker {
            waivers,
            today: today.to_string(),
            reached: vec![0; n],
            waived: vec![0; n],
            examples: vec![vec![]; n],
        }
    }

    fn expired(&self, w: &Waiver) -> bool {
        w.until.as_deref().is_some_and(|u| self.today.as_str() > u)
    }

    /// Counts `check` against every waiver naming it, and marks a failure waived by the first
    /// one in force.
    pub fn apply(&mut self, check: &mut Check) {
        for (i, w) in self.waivers.waivers.iter().enumerate() {
            if !w.names(check) {
                continue;
            }
            self.reached[i] += 1;
            if !check.passed && check.waived.is_none() && !self.expired(w) {
                check.waived = Some(w.reason.clone());
                self.waived[i] += 1;
                if self.examples[i].len() < EXAMPLES {
                    self.examples[i].push(check.id());
                }
            }
        }
    }

    /// What each waiver did.
    pub fn outcomes(&self) -> Vec<WaiverOutcome> {
        self.waivers
            .waivers
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let state = if self.expired(w) {
                    WaiverState::Expired
                } else if self.waived[i] > 0 {
                    WaiverState::Used
                } else if self.reached[i] > 0 {
                    WaiverState::Unused
                } else {
                    WaiverState::NotReached
                };
                WaiverOutcome {
                    file: self.waivers.file.clone(),
                    entry: w.entry,
                    pattern: w.pattern(),
                    reason: w.reason.clone(),
                    until: w.until.clone(),
                    state,
                    reached: self.reached[i],
                    waived: self.waived[i],
                    examples: self.examples[i].clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_ids() {
        let p = |s: &str| Pattern(s.into());
        assert!(p("enum-case/*").matches("enum-case/installState"));
        assert!(!p("enum-case/*").matches("mixed/enum-case/installState"));
        assert!(p("*enum-case/*").matches("mixed/enum-case/installState"));
        assert!(p("refused").matches("refused"));
        assert!(!p("refused").matches("refused2"));
        assert!(p("*").matches(""));
        assert!(p("a*b*c").matches("abc"));
        assert!(p("a*b*c").matches("a-b-b-c"));
        assert!(!p("a*b*c").matches("a-c"));
        assert!(!p("ab*ba").matches("aba"));
    }

    #[test]
    fn dates() {
        assert!(valid_date("2027-02-28"));
        assert!(!valid_date("2027-02-29"));
        assert!(valid_date("2028-02-29"));
        assert!(!valid_date("2027-13-01"));
        assert!(!valid_date("27-01-01"));
        assert!(!valid_date("2027-1-011"));
    }
}
