//! Reading the waiver file of a run (the format, and what each waiver did, are
//! [`crate::report::waiver`]).

use std::path::Path;

use thiserror::Error;

use crate::error::IoError;
use crate::report::waiver::{WaiverError, Waivers};

/// A waiver file that cannot be used.
#[derive(Debug, Error)]
pub enum LoadWaiversError {
    #[error(transparent)]
    Read(#[from] IoError),
    #[error(transparent)]
    Parse(#[from] WaiverError),
}

/// The waivers of a run: the named file, which must exist (`fix` says how to mend its name),
/// else `default` when it exists, else none.
pub fn load_waivers(named: Option<(&Path, &'static str)>, default: &Path) -> Result<Waivers, LoadWaiversError> {
    let (path, fix) = match named {
        Some(named) => named,
        None if default.is_file() => (default, "fix or remove it"),
        None => return Ok(Waivers::default()),
    };
    let text = std::fs::read_to_string(path).map_err(|e| IoError::new("read", path, fix, e))?;
    Ok(Waivers::parse(&path.display().to_string(), &text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_file_must_exist_and_a_default_one_may_not() {
        let missing = Path::new("/nonexistent/waivers.json");
        let e = load_waivers(Some((missing, "fix the path given to --waivers")), missing).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/waivers.json") && e.contains("fix the path given to --waivers"), "{e}");
        assert!(load_waivers(None, missing).is_ok());
    }
}
