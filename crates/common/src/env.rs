//! Environment-variable helpers whose errors name the variable, so a misconfigured
//! deployment says exactly what to fix.

use std::str::FromStr;

/// A configuration variable that is present but unusable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct EnvError {
    /// The variable's name.
    pub name: &'static str,
    /// The value it had.
    pub value: String,
    /// Why it cannot be used.
    pub reason: String,
}

/// The variable's value, or `None` when unset or empty.
pub fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The variable's value, or `default` when unset or empty.
pub fn var_or(name: &'static str, default: &str) -> String {
    var(name).unwrap_or_else(|| default.to_string())
}

/// The variable parsed as `T`, or `default` when unset or empty.
///
/// # Errors
/// When the variable is set but does not parse as `T`.
pub fn var_parsed<T>(name: &'static str, default: T) -> Result<T, EnvError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|e: T::Err| EnvError {
            name,
            reason: e.to_string(),
            value,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_the_variable() {
        // SAFETY: this test is the only user of this variable name.
        unsafe { std::env::set_var("TARS_TEST_ENV_PARSE", "abc") };
        let err = var_parsed::<u64>("TARS_TEST_ENV_PARSE", 1).unwrap_err();
        assert!(err.to_string().contains("TARS_TEST_ENV_PARSE"));
        assert!(err.to_string().contains("abc"));
    }

    #[test]
    fn unset_gives_default() {
        assert_eq!(var_parsed::<u64>("TARS_TEST_ENV_UNSET_X", 7).unwrap(), 7);
    }
}
