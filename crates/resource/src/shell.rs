//! Quoting for the POSIX shell: every value put into a remote command is one
//! single-quoted word, whatever it holds.

/// `value` as one shell word: in single quotes, each `'` written as `'\''`.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_whatever_it_holds() {
        assert_eq!(quote("/usr/local/app/tars"), "'/usr/local/app/tars'");
        assert_eq!(quote("a'b"), r"'a'\''b'");
        assert_eq!(quote("$(x); `y` \\ \"z\""), "'$(x); `y` \\ \"z\"'");
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("printf %s {}", quote("it's $HOME; `id`")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "it's $HOME; `id`");
    }
}
