//! The run's configuration: flags and `CONTRACT_*` variables read once into a [`Config`].
//! A flag wins over its variable; an empty variable counts as unset. Nothing deeper in the
//! crate reads the environment.

use crate::page::embedded::ALIASES;
use crate::run::target::host_of;
use std::time::Duration;

use thiserror::Error;

/// Hosts of the public Graph service: a run against them needs `--allow-production`.
pub const PRODUCTION_HOSTS: &[&str] =
    &["graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"];

/// Default number of random cases per route.
pub const DEFAULT_CASES: u32 = 200;
/// Default per-request deadline.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Upper bound of `CONTRACT_CASES` (a merge gate that runs for hours helps no one).
pub const MAX_CASES: u32 = 100_000;
/// The token the embedded service is started with when `CONTRACT_TOKEN` is unset.
pub const LOCAL_TOKEN: &str = "graph-contract-local-token";

/// Flag values as given on the command line (`None` = not given).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub base_url: Option<String>,
    pub token: Option<String>,
    pub mobile_app_id: Option<String>,
    pub status_id: Option<String>,
    pub user_status_id: Option<String>,
    pub cases: Option<String>,
    pub seed: Option<String>,
    pub timeout_ms: Option<String>,
    pub allow_production: bool,
    /// `--waivers FILE`.
    pub waivers: Option<String>,
    /// `--shard K/N`.
    pub shard: Option<String>,
    /// `--page PAGE.md`, repeatable.
    pub pages: Vec<String>,
    /// `--id NAME=VALUE`, repeatable.
    pub ids: Vec<String>,
}

impl Flags {
    /// The alias flags' values, in the order of the embedded page's [`ALIASES`].
    fn alias_values(&self) -> [&Option<String>; 3] {
        [&self.mobile_app_id, &self.status_id, &self.user_status_id]
    }
}

/// Where the run sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// Start the reference service in-process on loopback and use its default ids.
    Embedded,
    /// A service the user runs (its routes take the ids of [`Config::ids`]).
    Remote { base_url: String },
}

/// The whole configuration of a run.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub target: TargetSpec,
    /// The bearer token (never printed).
    pub token: String,
    pub cases: u32,
    pub seed: u64,
    /// Whether the seed was given (else it was drawn at random).
    pub seed_given: bool,
    pub timeout: Duration,
    /// Things the user should know before the run (e.g. plain http to a remote host).
    pub warnings: Vec<String>,
    /// Colors allowed: `NO_COLOR` unset or empty (a terminal is needed too).
    pub color: bool,
    /// `CONTRACT_REQUIRE_METADATA=1`: as `--require-metadata`.
    pub require_metadata: bool,
    /// `GITHUB_ACTIONS=true`: print `::error` workflow commands for failures.
    pub github_actions: bool,
    /// The waiver file: `--waivers` or `CONTRACT_WAIVERS` (which must exist), else
    /// [`DEFAULT_WAIVERS`] when it exists (decided by the CLI, which reads files).
    pub waivers: Option<WaiverSource>,
    /// The pages to check (`--page`, else `CONTRACT_PAGES`); empty: the built-in page.
    pub pages: Vec<String>,
    /// The ids of the placeholders, by placeholder name (`--id`, `CONTRACT_IDS`, and the
    /// built-in page's aliases `--mobile-app-id`, `--status-id`, `--user-status-id`).
    pub ids: Vec<(String, String)>,
    /// The placeholders given several ids (`--status-id s1,s2`, `--id NAME=ID,ID`,
    /// `CONTRACT_IDS=name=a,b`): the objects a route drives at once. Only a route's key
    /// placeholder may take a list ([`Config::check_objects`]); `ids` holds the first of each.
    pub objects: Vec<IdList>,
    /// The slice of the cases to run: `--shard K/N`, `CONTRACT_SHARD`, else GitLab's
    /// `CI_NODE_INDEX`/`CI_NODE_TOTAL` (`parallel:`); `None` runs every case.
    pub shard: Option<crate::run::Shard>,
}

/// Several ids for one placeholder, and what gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList {
    /// The placeholder, as the page writes it (`managedDeviceId`).
    pub placeholder: String,
    /// Two or more ids, distinct, in the order given.
    pub ids: Vec<String>,
    /// The flag or variable that gave them (`--status-id`, `--id`, `CONTRACT_IDS`).
    pub source: String,
}

/// The waiver file read when none is named, if it exists.
pub const DEFAULT_WAIVERS: &str = "cases/waivers.json";

/// Where the waivers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverSource {
    /// The path as given.
    pub path: String,
    /// `--waivers` or `CONTRACT_WAIVERS`: what named it (for the error when it is missing).
    pub named_by: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("target", &self.target)
            .field("token", &"<redacted>")
            .field("cases", &self.cases)
            .field("seed", &self.seed)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A configuration that cannot be used. Never carries the token.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("CONTRACT_BASE_URL is set, so these are required too: {} (set them to the ids of existing objects the run may update and restore)", .0.join(", "))]
    Missing(Vec<String>),
    #[error("{name} is {value:?}: {reason}")]
    Invalid { name: String, value: String, reason: String },
    #[error(
        "{given_by} gives {{{placeholder}}} several ids ({}), but {{{placeholder}}} is a parent placeholder, not the key of a route: only the objects' own ids may be a list (give one id for {{{placeholder}}}, and list the ids of the objects themselves instead, e.g. --id {key}=a,b)",
        .ids.join(",")
    )]
    ParentList { placeholder: String, ids: Vec<String>, given_by: String, key: String },
    #[error(
        "{host} is the public Microsoft Graph service: the run writes thousands of updates and refuses to \
         (point CONTRACT_BASE_URL at a staging service, or pass --allow-production if you really mean it)"
    )]
    Production { host: String },
}

/// Whether `host` is a loopback name or address.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(std::process::id());
    h.finish()
}

impl Config {
    /// The warning a token shorter than [`crate::report::mask::SHORT_TOKEN`] gets at the start of
    /// a run (on stderr only: the reports of a run with any token read the same).
    pub fn short_token_warning(&self) -> Option<String> {
        let length = self.token.chars().count();
        (length > 0 && length < crate::report::mask::SHORT_TOKEN).then(|| {
            format!(
                "the token is {} long; answers are masked only where a whole value, a whole word or \"Bearer <token>\" equals it",
                crate::text::count(length, "character")
            )
        })
    }

    /// Builds the configuration from flags and a variable lookup (`std::env::var` in the CLI,
    /// a map in tests).
    pub fn from_sources(flags: &Flags, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let pick = |flag: &Option<String>, var: &str| -> Option<(String, String)> {
            match flag {
                Some(v) => Some((flag_name(var), v.clone())),
                None => env(var).filter(|v| !v.trim().is_empty()).map(|v| (var.to_string(), v)),
            }
        };
        let number = |flag: &Option<String>, var: &str, min: u64, max: u64| -> Result<Option<u64>, ConfigError> {
            let Some((name, raw)) = pick(flag, var) else { return Ok(None) };
            match raw.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ConfigError::Invalid {
                    name,
                    value: raw,
                    reason: format!("expected a whole number from {min} to {max}"),
                }),
            }
        };
        let cases = number(&flags.cases, "CONTRACT_CASES", 0, u64::from(MAX_CASES))?
            .map_or(DEFAULT_CASES, |n| u32::try_from(n).unwrap_or(MAX_CASES));
        let seed = number(&flags.seed, "CONTRACT_SEED", 0, u64::MAX)?;
        let timeout_ms = number(&flags.timeout_ms, "CONTRACT_TIMEOUT_MS", 1, 3_600_000)?.unwrap_or(DEFAULT_TIMEOUT_MS);
        let token = pick(&flags.token, "CONTRACT_TOKEN").map(|(_, t)| t.trim().to_string());
        let waivers = pick(&flags.waivers, "CONTRACT_WAIVERS")
            .map(|(named_by, path)| WaiverSource { path: path.trim().to_string(), named_by });
        let shard = shard(pick(&flags.shard, "CONTRACT_SHARD"), &env)?;
        let pages: Vec<String> = if flags.pages.is_empty() {
            env("CONTRACT_PAGES")
                .map(|v| v.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
                .unwrap_or_default()
        } else {
            flags.pages.clone()
        };
        let (ids, objects) = ids(flags, &env, &pick)?;
        let mut warnings = Vec::new();

        let target = match pick(&flags.base_url, "CONTRACT_BASE_URL") {
            None => TargetSpec::Embedded,
            Some((name, url)) => {
                let url = url.trim().trim_end_matches('/').to_string();
                let invalid = |reason: &str| ConfigError::Invalid {
                    name: name.clone(),
                    value: url.clone(),
                    reason: reason.into(),
                };
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid("expected an http:// or https:// URL with the version segment, e.g. https://staging.example.com/beta"));
                }
                let host = host_of(&url).ok_or_else(|| invalid("the URL has no host"))?;
                if url.contains(['?', '#']) {
                    return Err(invalid("the base URL must not carry a query or fragment"));
                }
                let production = PRODUCTION_HOSTS.iter().any(|p| host == *p || host.ends_with(&format!(".{p}")));
                if production && !flags.allow_production {
                    return Err(ConfigError::Production { host });
                }
                if url.starts_with("http://") && !is_loopback(&host) {
                    warnings.push(format!(
                        "{url} is plain http to a host that is not loopback: the bearer token travels unencrypted"
                    ));
                }
                // The embedded page's routes need every alias: with no page given, each is
                // required (a page given names its own placeholders: which routes can run is
                // decided once the pages are read, and a route without all its ids is skipped).
                let mut missing = Vec::new();
                let mut aliases = Vec::new();
                for (alias, flag) in ALIASES.iter().zip(flags.alias_values()) {
                    match pick(flag, alias.var).map(|(_, v)| v.trim().to_string()) {
                        Some(v) => aliases.push((alias.var, v)),
                        None => missing.push(format!("{} (or {})", alias.var, flag_name(alias.var))),
                    }
                }
                if token.is_none() {
                    missing.push("CONTRACT_TOKEN (or --token)".to_string());
                }
                if !pages.is_empty() {
                    missing.retain(|m| m.starts_with("CONTRACT_TOKEN"));
                }
                if !missing.is_empty() {
                    return Err(ConfigError::Missing(missing));
                }
                for (var, v) in aliases {
                    if v.split(',').any(|x| x.trim().contains(['/', '?', '#', ' '])) {
                        return Err(ConfigError::Invalid {
                            name: var.into(),
                            value: v.clone(),
                            reason: "an id must not contain '/', '?', '#' or spaces".into(),
                        });
                    }
                }
                TargetSpec::Remote { base_url: url }
            }
        };
        let require_metadata =
            match env("CONTRACT_REQUIRE_METADATA").as_deref().map(str::trim) {
                None | Some("" | "0" | "false") => false,
                Some("1" | "true") => true,
                Some(other) => return Err(ConfigError::Invalid {
                    name: "CONTRACT_REQUIRE_METADATA".into(),
                    value: other.into(),
                    reason:
                        "expected 1 or true (a target that does not serve $metadata fails the run), 0, false or empty"
                            .into(),
                }),
            };
        Ok(Config {
            require_metadata,
            target,
            token: token.unwrap_or_else(|| LOCAL_TOKEN.to_string()),
            cases,
            seed_given: seed.is_some(),
            seed: seed.unwrap_or_else(random_seed),
            timeout: Duration::from_millis(timeout_ms),
            warnings,
            color: env("NO_COLOR").is_none_or(|v| v.is_empty()),
            github_actions: env("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            waivers,
            shard,
            pages,
            ids,
            objects,
        })
    }

    /// Refuses a list of ids for a placeholder that is no route's key (`key_params`: the key
    /// placeholders of the run's routes): a list names objects driven at once, and a parent
    /// (a route's `{groupId}` above its key) is shared by them.
    pub fn check_objects(&self, key_params: &[&str]) -> Result<(), ConfigError> {
        match self.objects.iter().find(|l| !key_params.contains(&l.placeholder.as_str())) {
            Some(l) => Err(ConfigError::ParentList {
                placeholder: l.placeholder.clone(),
                ids: l.ids.clone(),
                given_by: l.source.clone(),
                key: key_params.first().map_or_else(|| "NAME".to_string(), |k| k.to_string()),
            }),
            None => Ok(()),
        }
    }

    /// The ids of `placeholder` when it is given several.
    pub fn objects_of(&self, placeholder: &str) -> Option<&[String]> {
        self.objects.iter().find(|l| l.placeholder == placeholder).map(|l| l.ids.as_slice())
    }

    /// Builds the configuration from flags and the process environment (read here, once).
    pub fn from_env(flags: &Flags) -> Result<Config, ConfigError> {
        Config::from_sources(flags, |name| std::env::var(name).ok())
    }
}

/// What `graph-contract openapi` is aimed at, from the same flags and variables as `run`:
/// the base URL (the document's server) and the ids, each optional. A given id pins its path
/// parameter; an id must not break the path.
pub fn export_pins(
    flags: &Flags,
    env: impl Fn(&str) -> Option<String>,
) -> Result<crate::export::openapi::Pins, ConfigError> {
    let pick = |flag: &Option<String>, var: &str| -> Option<(String, String)> {
        match flag {
            Some(v) => Some((flag_name(var), v.trim().to_string())),
            None => env(var).filter(|v| !v.trim().is_empty()).map(|v| (var.to_string(), v.trim().to_string())),
        }
    };
    let id = |flag: &Option<String>, var: &str| -> Result<Option<String>, ConfigError> {
        match pick(flag, var) {
            Some((name, v)) if v.is_empty() || v.contains(['/', '?', '#', ' ']) => Err(ConfigError::Invalid {
                name,
                value: v,
                reason: "an id must be non-empty and must not contain '/', '?', '#' or spaces".into(),
            }),
            other => Ok(other.map(|(_, v)| v)),
        }
    };
    let base_url = match pick(&flags.base_url, "CONTRACT_BASE_URL") {
        Some((name, url)) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            return Err(ConfigError::Invalid {
                name,
                value: url,
                reason: "expected an http:// or https:// URL with the version segment, e.g. https://staging.example.com/beta"
                    .into(),
            })
        }
        other => other.map(|(_, url)| url.trim_end_matches('/').to_string()),
    };
    // An alias must be a usable id (refused with its own name); it pins its placeholder
    // through `ids`, as `--id` does (a list pins its first id there).
    for (alias, flag) in ALIASES.iter().zip(flags.alias_values()) {
        id(flag, alias.var)?;
    }
    let (ids, lists) = ids(flags, &env, &pick)?;
    let lists = lists.into_iter().map(|l| (l.placeholder, l.ids)).collect();
    Ok(crate::export::openapi::Pins { base_url, ids, lists })
}

/// [`export_pins`] from the process environment (read here, once).
pub fn export_pins_from_env(flags: &Flags) -> Result<crate::export::openapi::Pins, ConfigError> {
    export_pins(flags, |name| std::env::var(name).ok())
}

/// The shard from `--shard`/`CONTRACT_SHARD` (`K/N`), else from GitLab's `CI_NODE_INDEX` and
/// `CI_NODE_TOTAL` (1-based, as `parallel:` sets them), else none.
fn shard(
    given: Option<(String, String)>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::run::Shard>, ConfigError> {
    let invalid = |name: &str, value: &str| ConfigError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        reason: "expected K/N with 1 <= K <= N, e.g. 2/4 (the second of four slices)".into(),
    };
    let make = |k: &str, n: &str| -> Option<crate::run::Shard> {
        let (index, total) = (k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?);
        (1..=total).contains(&index).then_some(crate::run::Shard { index, total })
    };
    if let Some((name, raw)) = given {
        let (k, n) = raw.split_once('/').ok_or_else(|| invalid(&name, &raw))?;
        return make(k, n).map(Some).ok_or_else(|| invalid(&name, &raw));
    }
    let var = |v: &str| env(v).filter(|x| !x.trim().is_empty());
    match (var("CI_NODE_INDEX"), var("CI_NODE_TOTAL")) {
        (Some(k), Some(n)) => make(&k, &n)
            .map(Some)
            .ok_or_else(|| invalid("CI_NODE_INDEX/CI_NODE_TOTAL", &format!("{}/{}", k.trim(), n.trim()))),
        _ => Ok(None),
    }
}

/// The pages given: `--page` flags, else `CONTRACT_PAGES` (comma-separated), read here.
pub fn pages_from_env(flags: &[String]) -> Vec<String> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    std::env::var("CONTRACT_PAGES")
        .map(|v| v.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default()
}

/// The metadata document given: `--metadata`, else `CONTRACT_METADATA` (empty: none), read here.
pub fn metadata_from_env(flag: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    flag.map(std::path::Path::to_path_buf)
        .or_else(|| std::env::var_os("CONTRACT_METADATA").filter(|v| !v.is_empty()).map(std::path::PathBuf::from))
}

/// The ids by placeholder: `--id NAME=VALUE` first, then `CONTRACT_IDS` (`name=value,…`), then
/// the aliases; the first source to name a placeholder wins. A value may be a list
/// (`NAME=a,b,c`); in `CONTRACT_IDS` a part without `=` continues the previous name's list
/// (`groupId=g1,g2,ownerId=o1`). Returns the first id of each placeholder, and the lists.
#[allow(clippy::type_complexity)]
fn ids(
    flags: &Flags,
    env: &impl Fn(&str) -> Option<String>,
    pick: &impl Fn(&Option<String>, &str) -> Option<(String, String)>,
) -> Result<(Vec<(String, String)>, Vec<IdList>), ConfigError> {
    let mut out: Vec<(String, Vec<String>, String)> = Vec::new();
    let mut add = |source: &str, name: &str, values: &[&str], shown: &str| -> Result<(), ConfigError> {
        let invalid =
            |reason: String| ConfigError::Invalid { name: source.to_string(), value: shown.to_string(), reason };
        let name = name.trim().trim_start_matches('{').trim_end_matches('}');
        if name.is_empty() || values.iter().all(|v| v.trim().is_empty()) {
            return Err(invalid("expected NAME=VALUE with both parts, e.g. managedDeviceId=abc".into()));
        }
        let mut list: Vec<String> = Vec::new();
        for v in values.iter().map(|v| v.trim()) {
            if v.is_empty() {
                return Err(invalid(format!(
                    "an empty id in the list of {{{name}}} (ids are separated by single commas, e.g. {name}=a,b)"
                )));
            }
            if v.contains(['/', '?', '#', ' ']) {
                return Err(invalid("an id must not contain '/', '?', '#' or spaces".into()));
            }
            if list.iter().any(|x| x == v) {
                return Err(invalid(format!(
                    "{v} is listed twice for {{{name}}}: each object is driven once (remove the repeat)"
                )));
            }
            list.push(v.to_string());
        }
        if !out.iter().any(|(n, _, _)| n == name) {
            out.push((name.to_string(), list, source.to_string()));
        }
        Ok(())
    };
    let expected = "expected NAME=VALUE, the placeholder as the page writes it, e.g. managedDeviceId=abc";
    for pair in &flags.ids {
        let (name, value) = pair.split_once('=').ok_or_else(|| ConfigError::Invalid {
            name: "--id".into(),
            value: pair.clone(),
            reason: expected.into(),
        })?;
        add("--id", name, &value.split(',').collect::<Vec<_>>(), pair)?;
    }
    if let Some(list) = env("CONTRACT_IDS").filter(|v| !v.trim().is_empty()) {
        // name=a,b,other=c: a part without `=` continues the list of the name before it.
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for part in list.split(',') {
            match (part.split_once('='), groups.last_mut()) {
                (Some((name, value)), _) => groups.push((name, vec![value])),
                (None, Some((_, values))) => values.push(part),
                (None, None) => {
                    return Err(ConfigError::Invalid {
                        name: "CONTRACT_IDS".into(),
                        value: part.into(),
                        reason: expected.into(),
                    })
                }
            }
        }
        for (name, values) in groups {
            add("CONTRACT_IDS", name, &values, &format!("{name}={}", values.join(",")))?;
        }
    }
    for (alias, flag) in ALIASES.iter().zip(flags.alias_values()) {
        // A malformed alias is refused with its own name, as before (see `from_sources`).
        let malformed = |v: &str| v.split(',').any(|x| x.trim().contains(['/', '?', '#', ' ']));
        if let Some((name, v)) = pick(flag, alias.var).filter(|(_, v)| !malformed(v)) {
            add(&name, alias.placeholder, &v.trim().split(',').collect::<Vec<_>>(), v.trim())?;
        }
    }
    let firsts = out.iter().map(|(n, l, _)| (n.clone(), l.first().cloned().unwrap_or_default())).collect();
    let lists = out
        .into_iter()
        .filter(|(_, l, _)| l.len() > 1)
        .map(|(placeholder, ids, source)| IdList { placeholder, ids, source })
        .collect();
    Ok((firsts, lists))
}

/// The objects `serve` holds besides its default ones: every id given with `--status-id` or
/// `--id NAME=ID,ID` (flags only: the `CONTRACT_*` variables point runs at a service, they do
/// not set one up), by placeholder.
pub fn serve_objects(flags: &Flags) -> Result<Vec<(String, Vec<String>)>, ConfigError> {
    let pick = |flag: &Option<String>, var: &str| flag.as_ref().map(|v| (flag_name(var), v.clone()));
    if let Some(v) = flags.status_id.as_deref().filter(|v| v.contains(['/', '?', '#', ' '])) {
        return Err(ConfigError::Invalid {
            name: "--status-id".into(),
            value: v.into(),
            reason: "an id must not contain '/', '?', '#' or spaces".into(),
        });
    }
    let (firsts, lists) = ids(flags, &|_: &str| None, &pick)?;
    Ok(firsts
        .into_iter()
        .map(|(name, first)| {
            let list = lists.iter().find(|l| l.placeholder == name).map_or_else(|| vec![first], |l| l.ids.clone());
            (name, list)
        })
        .collect())
}

/// `CONTRACT_MOBILE_APP_ID` → `--mobile-app-id`.
fn flag_name(var: &str) -> String {
    format!("--{}", var.trim_start_matches("CONTRACT_").to_ascii_lowercase().replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(flags: &Flags, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_sources(flags, |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_the_embedded_service() {
        let c = cfg(&Flags::default(), &[]).unwrap();
        assert_eq!(c.target, TargetSpec::Embedded);
        assert_eq!(c.cases, DEFAULT_CASES);
        assert_eq!(c.timeout, Duration::from_millis(DEFAULT_TIMEOUT_MS));
        assert!(!c.seed_given);
    }

    #[test]
    fn remote_needs_the_ids_and_token() {
        let e = cfg(
            &Flags::default(),
            &[("CONTRACT_BASE_URL", "https://staging.example.com/beta"), ("CONTRACT_STATUS_ID", "s")],
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("CONTRACT_MOBILE_APP_ID")
                && msg.contains("CONTRACT_USER_STATUS_ID")
                && msg.contains("CONTRACT_TOKEN"),
            "{msg}"
        );
        assert!(!msg.contains("CONTRACT_STATUS_ID (or"), "{msg}");
    }

    #[test]
    fn shard_from_flag_variable_or_gitlab() {
        use crate::run::Shard;
        let flags = Flags { shard: Some("2/4".into()), ..Flags::default() };
        assert_eq!(cfg(&flags, &[("CONTRACT_SHARD", "1/2")]).unwrap().shard, Some(Shard { index: 2, total: 4 }));
        assert_eq!(
            cfg(&Flags::default(), &[("CONTRACT_SHARD", "1/2")]).unwrap().shard,
            Some(Shard { index: 1, total: 2 })
        );
        let gitlab = [("CI_NODE_INDEX", "3"), ("CI_NODE_TOTAL", "5")];
        assert_eq!(cfg(&Flags::default(), &gitlab).unwrap().shard, Some(Shard { index: 3, total: 5 }));
        // A given shard wins over GitLab's.
        assert_eq!(cfg(&flags, &gitlab).unwrap().shard, Some(Shard { index: 2, total: 4 }));
        assert_eq!(cfg(&Flags::default(), &[("CI_NODE_TOTAL", "5")]).unwrap().shard, None);
        assert_eq!(cfg(&Flags::default(), &[]).unwrap().shard, None);
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "-1/2"] {
            let e = cfg(&Flags { shard: Some(bad.into()), ..Flags::default() }, &[]).unwrap_err();
            assert!(e.to_string().starts_with(&format!("--shard is {bad:?}")), "{e}");
        }
        let e = cfg(&Flags::default(), &[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "2")]).unwrap_err();
        assert!(e.to_string().starts_with("CI_NODE_INDEX/CI_NODE_TOTAL is \"0/2\""), "{e}");
    }

    #[test]
    fn flag_wins_over_variable() {
        let flags = Flags { cases: Some("7".into()), seed: Some("42".into()), ..Flags::default() };
        let c = cfg(&flags, &[("CONTRACT_CASES", "9"), ("CONTRACT_SEED", "1")]).unwrap();
        assert_eq!((c.cases, c.seed, c.seed_given), (7, 42, true));
    }

    #[test]
    fn bad_numbers_name_the_source() {
        let e = cfg(&Flags::default(), &[("CONTRACT_CASES", "many")]).unwrap_err();
        assert!(e.to_string().starts_with("CONTRACT_CASES is \"many\""), "{e}");
        let e = cfg(&Flags { timeout_ms: Some("0".into()), ..Flags::default() }, &[]).unwrap_err();
        assert!(e.to_string().starts_with("--timeout-ms is \"0\""), "{e}");
    }

    #[test]
    fn production_needs_consent() {
        let vars = [
            ("CONTRACT_BASE_URL", "https://Graph.Microsoft.com/beta"),
            ("CONTRACT_TOKEN", "t"),
            ("CONTRACT_MOBILE_APP_ID", "a"),
            ("CONTRACT_STATUS_ID", "s"),
            ("CONTRACT_USER_STATUS_ID", "u"),
        ];
        assert!(matches!(cfg(&Flags::default(), &vars), Err(ConfigError::Production { .. })));
        let mut canary = vars;
        canary[0] = ("CONTRACT_BASE_URL", "https://canary.graph.microsoft.com/beta");
        assert!(matches!(cfg(&Flags::default(), &canary), Err(ConfigError::Production { .. })));
        assert!(cfg(&Flags { allow_production: true, ..Flags::default() }, &vars).is_ok());
    }

    #[test]
    fn warns_on_plain_http_to_a_remote_host() {
        let mut vars = vec![
            ("CONTRACT_TOKEN", "t"),
            ("CONTRACT_MOBILE_APP_ID", "a"),
            ("CONTRACT_STATUS_ID", "s"),
            ("CONTRACT_USER_STATUS_ID", "u"),
        ];
        vars.push(("CONTRACT_BASE_URL", "http://staging.example.com/beta"));
        assert_eq!(cfg(&Flags::default(), &vars).unwrap().warnings.len(), 1);
        vars.pop();
        vars.push(("CONTRACT_BASE_URL", "http://127.0.0.1:9/beta"));
        assert!(cfg(&Flags::default(), &vars).unwrap().warnings.is_empty());
    }

    #[test]
    fn output_settings() {
        let c = cfg(&Flags::default(), &[("NO_COLOR", "1"), ("GITHUB_ACTIONS", "true")]).unwrap();
        assert!(!c.color && c.github_actions);
        let c = cfg(&Flags::default(), &[("NO_COLOR", ""), ("GITHUB_ACTIONS", "false")]).unwrap();
        assert!(c.color && !c.github_actions);
    }

    #[test]
    fn the_token_never_shows() {
        let c = cfg(&Flags { token: Some("s3cr3t".into()), ..Flags::default() }, &[]).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn export_pins_take_flags_then_variables() {
        let map: HashMap<&str, &str> = [("CONTRACT_STATUS_ID", "s-var"), ("CONTRACT_MOBILE_APP_ID", "a-var")].into();
        let env = |k: &str| map.get(k).map(|v| v.to_string());
        let flags = Flags { mobile_app_id: Some("a-flag".into()), ..Flags::default() };
        let pins = export_pins(&flags, env).unwrap();
        let pinned = |p: &str| pins.ids.iter().find(|(n, _)| n == p).map(|(_, v)| v.as_str());
        assert_eq!(pinned("mobileAppId"), Some("a-flag"));
        assert_eq!(pinned("mobileAppInstallStatusId"), Some("s-var"));
        assert_eq!((pinned("userAppInstallStatusId"), pins.base_url.clone()), (None, None));
        let bad = Flags { user_status_id: Some("a/b".into()), ..Flags::default() };
        assert!(export_pins(&bad, |_| None).unwrap_err().to_string().starts_with("--user-status-id is \"a/b\""));
        let url = Flags { base_url: Some("ftp://x".into()), ..Flags::default() };
        assert!(export_pins(&url, |_| None).is_err());
    }

    #[test]
    fn id_lists_from_flags_variables_and_aliases() {
        let flags = Flags { status_id: Some("s1, s2,s3".into()), ..Flags::default() };
        let c = cfg(&flags, &[]).unwrap();
        assert_eq!(c.objects_of("mobileAppInstallStatusId"), Some(&["s1".to_string(), "s2".into(), "s3".into()][..]));
        assert_eq!(c.ids, [("mobileAppInstallStatusId".to_string(), "s1".to_string())]);
        // In CONTRACT_IDS a part without `=` continues the list of the name before it.
        let c = cfg(&Flags::default(), &[("CONTRACT_IDS", "groupId=g1,g2,g3,ownerId=o1")]).unwrap();
        assert_eq!(c.objects_of("groupId"), Some(&["g1".to_string(), "g2".into(), "g3".into()][..]));
        assert_eq!(c.objects_of("ownerId"), None, "one id is no list");
        assert_eq!(c.ids, [("groupId".to_string(), "g1".to_string()), ("ownerId".to_string(), "o1".to_string())]);
        assert!(c.check_objects(&["groupId"]).is_ok());
        let e = c.check_objects(&["ownerId"]).unwrap_err().to_string();
        assert!(e.starts_with("CONTRACT_IDS gives {groupId} several ids (g1,g2,g3), but {groupId} is a parent"), "{e}");
        let flags = Flags { ids: vec!["managedDeviceId=d1,d2".into()], ..Flags::default() };
        assert_eq!(cfg(&flags, &[]).unwrap().objects_of("managedDeviceId").map(<[String]>::len), Some(2));
        // One id: no list, as before.
        let c = cfg(&Flags { status_id: Some("s1".into()), ..Flags::default() }, &[]).unwrap();
        assert!(c.objects.is_empty());
        // A remote run takes the first status id for its routes.
        let vars = [
            ("CONTRACT_BASE_URL", "https://staging.example.com/beta"),
            ("CONTRACT_TOKEN", "t"),
            ("CONTRACT_MOBILE_APP_ID", "a"),
            ("CONTRACT_STATUS_ID", "s1,s2"),
            ("CONTRACT_USER_STATUS_ID", "u"),
        ];
        let c = cfg(&Flags::default(), &vars).unwrap();
        assert!(matches!(&c.target, TargetSpec::Remote { .. }));
        assert!(c.ids.contains(&("mobileAppInstallStatusId".to_string(), "s1".to_string())));
        assert_eq!(c.objects_of("mobileAppInstallStatusId").map(<[String]>::len), Some(2));
    }

    #[test]
    fn bad_id_lists_name_the_source_and_the_fix() {
        for (flags, vars, start) in [
            (
                Flags { status_id: Some("s1,,s2".into()), ..Flags::default() },
                vec![],
                "--status-id is \"s1,,s2\": an empty id",
            ),
            (
                Flags { status_id: Some("s1,".into()), ..Flags::default() },
                vec![],
                "--status-id is \"s1,\": an empty id",
            ),
            (
                Flags { ids: vec!["k=a,b,a".into()], ..Flags::default() },
                vec![],
                "--id is \"k=a,b,a\": a is listed twice",
            ),
            (Flags::default(), vec![("CONTRACT_IDS", "k=a,,b")], "CONTRACT_IDS is \"k=a,,b\": an empty id"),
            (Flags::default(), vec![("CONTRACT_IDS", "a,k=b")], "CONTRACT_IDS is \"a\": expected NAME=VALUE"),
            (Flags::default(), vec![("CONTRACT_STATUS_ID", "s,s")], "CONTRACT_STATUS_ID is \"s,s\": s is listed twice"),
        ] {
            let e = cfg(&flags, &vars).unwrap_err().to_string();
            assert!(e.starts_with(start), "{e}");
        }
    }

    #[test]
    fn serve_takes_the_ids_given_as_objects() {
        let flags = Flags { status_id: Some("s1,s2".into()), ids: vec!["deviceId=d1".into()], ..Flags::default() };
        assert_eq!(
            serve_objects(&flags).unwrap(),
            [
                ("deviceId".to_string(), vec!["d1".to_string()]),
                ("mobileAppInstallStatusId".to_string(), vec!["s1".to_string(), "s2".to_string()])
            ]
        );
        assert!(serve_objects(&Flags { status_id: Some("a/b".into()), ..Flags::default() }).is_err());
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("https://user@Host.example:8443/beta").as_deref(), Some("host.example"));
        assert_eq!(host_of("http://[::1]:80/beta").as_deref(), Some("::1"));
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && !is_loopback("10.0.0.1"));
    }
}
