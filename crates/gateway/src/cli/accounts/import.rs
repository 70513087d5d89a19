//! Reading what `uplink accounts import` is given, telling the format from the
//! content: a JSON array of `{"refresh_token", "email"?, "project_id"?}` (or of
//! Antigravity Tools accounts), one Antigravity Tools account file
//! (`{"email", "token": {"refresh_token", "project_id"?, …}, …}`), a directory of
//! such files, or refresh tokens one per line (blank lines and `#` comments
//! ignored). Errors name the file and the entry and never contain a token.

use std::path::Path;

use serde_json::Value;

use crate::storage::NewAccount;

/// What the accepted formats are, for error messages.
const FORMATS: &str = "expected a JSON array of {\"refresh_token\", \"email\"?, \"project_id\"?}, \
an Antigravity Tools account file (or a directory of them), or one refresh token per line";

/// Shortest refresh token a token-per-line file may hold (Google's are ~100
/// characters); shorter words are taken for text that is not a token file.
const MIN_TOKEN_LEN: usize = 16;

/// One account read from the input.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Where it came from: `FILE entry 2`, `FILE line 3` or `FILE`.
    pub origin: String,
    pub account: NewAccount,
    /// The source had the account disabled, for this reason.
    pub disabled: Option<String>,
}

/// Why the input was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{origin}: {problem}")]
    Bad { origin: String, problem: String },
}

fn bad(origin: impl Into<String>, problem: impl Into<String>) -> ImportError {
    ImportError::Bad {
        origin: origin.into(),
        problem: problem.into(),
    }
}

/// Read a file, a directory of `*.json` files, or (`-`) standard input.
pub fn read(path: &Path) -> Result<Vec<Entry>, ImportError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| ImportError::Read("standard input".into(), e))?;
        return parse("standard input", &text);
    }
    let name = path.display().to_string();
    if path.is_dir() {
        return read_dir(path, &name);
    }
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::Read(name.clone(), e))?;
    parse(&name, &text)
}

fn read_dir(dir: &Path, name: &str) -> Result<Vec<Entry>, ImportError> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ImportError::Read(name.to_owned(), e))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
        })
        .collect();
    if files.is_empty() {
        let hint = if dir.join("accounts").is_dir() {
            format!(
                "; Antigravity Tools keeps its account files in {}",
                dir.join("accounts").display()
            )
        } else {
            String::new()
        };
        return Err(bad(
            name,
            format!("no *.json files in this directory{hint}"),
        ));
    }
    files.sort();
    let mut entries = Vec::new();
    for file in files {
        let file_name = file.display().to_string();
        let text =
            std::fs::read_to_string(&file).map_err(|e| ImportError::Read(file_name.clone(), e))?;
        if !looks_like_json(&text) {
            return Err(bad(
                file_name,
                format!("not a JSON account file; {FORMATS}"),
            ));
        }
        entries.extend(parse(&file_name, &text)?);
    }
    Ok(entries)
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with(['[', '{'])
}

/// Parse one input's text (`name` is how errors call it).
pub fn parse(name: &str, text: &str) -> Result<Vec<Entry>, ImportError> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(bad(name, format!("the file is empty; {FORMATS}")));
    }
    if !looks_like_json(text) {
        return token_lines(name, text);
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| bad(name, format!("not valid JSON ({e}); {FORMATS}")))?;
    let entries = match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(bad(name, "the array is empty: no accounts to import"));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| entry(format!("{name} entry {}", i + 1), item))
                .collect::<Result<Vec<_>, _>>()?
        }
        Value::Object(ref object) => {
            if object.get("accounts").is_some_and(Value::is_array)
                && !object.contains_key("token")
                && !object.contains_key("refresh_token")
            {
                return Err(bad(
                    name,
                    "this looks like Antigravity Tools' account index (accounts.json), which holds no tokens; import the `accounts` directory next to it",
                ));
            }
            vec![entry(name.to_owned(), &value)?]
        }
        _ => return Err(bad(name, FORMATS)),
    };
    Ok(entries)
}

/// One account object: `{"refresh_token", "email"?, "project_id"?}` or an
/// Antigravity Tools account (`{"email", "token": {"refresh_token", …}, "disabled"?}`).
/// Unknown fields are ignored.
fn entry(origin: String, item: &Value) -> Result<Entry, ImportError> {
    let Some(object) = item.as_object() else {
        return Err(bad(origin, "not a JSON object"));
    };
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (token, email, project, disabled) = match object.get("token") {
        Some(Value::Object(token)) => {
            let disabled =
                (object.get("disabled").and_then(Value::as_bool) == Some(true)).then(|| {
                    text(object.get("disabled_reason"))
                        .map_or("disabled in Antigravity Tools".to_owned(), |r| {
                            format!("disabled in Antigravity Tools: {r}")
                        })
                });
            (
                token.get("refresh_token").ok_or_else(|| {
                    bad(
                        &origin,
                        "an Antigravity Tools account without token.refresh_token",
                    )
                })?,
                text(object.get("email")).or_else(|| text(token.get("email"))),
                text(token.get("project_id")),
                disabled,
            )
        }
        _ => (
            object.get("refresh_token").ok_or_else(|| {
                bad(
                    &origin,
                    "no refresh_token (nor an Antigravity Tools token.refresh_token)",
                )
            })?,
            text(object.get("email")),
            text(object.get("project_id")),
            None,
        ),
    };
    let Some(token) = token.as_str() else {
        return Err(bad(origin, "the refresh token is not a string"));
    };
    let token = checked_token(token).map_err(|problem| bad(&origin, problem))?;
    Ok(Entry {
        origin,
        account: NewAccount {
            email,
            refresh_token: token,
            project_id: project,
        },
        disabled,
    })
}

fn checked_token(token: &str) -> Result<String, &'static str> {
    let token = token.trim();
    if token.is_empty() {
        return Err("the refresh token is empty");
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the refresh token contains spaces or control characters");
    }
    Ok(token.to_owned())
}

fn token_lines(name: &str, text: &str) -> Result<Vec<Entry>, ImportError> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = format!("{name} line {}", i + 1);
        let plausible = line.len() >= MIN_TOKEN_LEN
            && line
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c));
        if !plausible {
            return Err(bad(origin, format!("not a refresh token; {FORMATS}")));
        }
        entries.push(Entry {
            origin,
            account: NewAccount {
                email: None,
                refresh_token: line.to_owned(),
                project_id: None,
            },
            disabled: None,
        });
    }
    if entries.is_empty() {
        return Err(bad(
            name,
            "no refresh tokens in the file (only blank lines and comments)",
        ));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "1//0gAAAAAAAAAAAAAAAAAAAAAA-first";
    const T2: &str = "1//0gBBBBBBBBBBBBBBBBBBBBBB_second";

    #[test]
    fn a_json_array_of_plain_entries_and_antigravity_accounts() {
        let text = format!(
            r#"[{{"refresh_token": " {T1} ", "email": "a@x", "extra": 1}},
                {{"refresh_token": "{T2}", "project_id": "p", "email": ""}},
                {{"email": "c@x", "token": {{"refresh_token": "{T1}x", "project_id": "pc"}}}}]"#
        );
        let entries = parse("f", &text).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].account.refresh_token, T1);
        assert_eq!(entries[0].origin, "f entry 1");
        assert_eq!(entries[1].account.email, None);
        assert_eq!(entries[1].account.project_id.as_deref(), Some("p"));
        assert_eq!(entries[2].account.email.as_deref(), Some("c@x"));
        assert_eq!(entries[2].account.project_id.as_deref(), Some("pc"));
    }

    #[test]
    fn an_antigravity_tools_account_file() {
        let text = format!(
            r#"{{"id": "6b1c", "email": "a@x", "name": "A", "created_at": 1, "last_used": 2,
                "disabled": true, "disabled_reason": "invalid_grant",
                "quota": {{"models": [{{"name": "gemini-2.5-pro", "percentage": 100}}]}},
                "token": {{"access_token": "ya29.secret", "refresh_token": "{T1}", "expires_in": 3599,
                          "expiry_timestamp": 1767000000, "token_type": "Bearer",
                          "project_id": "bamboo-1", "is_gcp_tos": false}}}}"#
        );
        let entries = parse("a.json", &text).unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.origin, "a.json");
        assert_eq!(e.account.refresh_token, T1);
        assert_eq!(e.account.email.as_deref(), Some("a@x"));
        assert_eq!(e.account.project_id.as_deref(), Some("bamboo-1"));
        assert_eq!(
            e.disabled.as_deref(),
            Some("disabled in Antigravity Tools: invalid_grant")
        );
    }

    #[test]
    fn token_lines_skip_blanks_and_comments() {
        let text = format!("# my accounts\n\n{T1}\n   \n  {T2}  \n# end\n");
        let entries = parse("t.txt", &text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].origin, "t.txt line 3");
        assert_eq!(entries[1].account.refresh_token, T2);
        assert_eq!(entries[1].origin, "t.txt line 5");
    }

    #[test]
    fn bad_input_names_the_file_and_entry_and_never_the_token() {
        for (text, needle) in [
            ("", "f: the file is empty"),
            ("  \n\n", "f: the file is empty"),
            ("{oops", "f: not valid JSON"),
            ("[]", "f: the array is empty"),
            ("42", "f line 1: not a refresh token"),
            ("null", "f line 1: not a refresh token"),
            ("[1", "f: not valid JSON"),
            ("\"x\"", "f line 1: not a refresh token"),
            (r#"[{"email": "a@x"}]"#, "f entry 1: no refresh_token"),
            (
                &format!(r#"[{{"refresh_token": "{T1}"}}, {{"refresh_token": ""}}]"#),
                "f entry 2: the refresh token is empty",
            ),
            (
                &format!(r#"[{{"refresh_token": "{T1}"}}, 7]"#),
                "f entry 2: not a JSON object",
            ),
            (
                r#"[{"refresh_token": 5}]"#,
                "f entry 1: the refresh token is not a string",
            ),
            (
                r#"{"email": "a@x", "token": {"access_token": "ya29.x"}}"#,
                "f: an Antigravity Tools account without token.refresh_token",
            ),
            (
                &format!(r#"[{{"refresh_token": "{T1} {T2}"}}]"#),
                "f entry 1: the refresh token contains spaces",
            ),
            (
                r#"{"version": "2.0", "accounts": [{"id": "1", "email": "a@x"}], "current_account_id": "1"}"#,
                "account index",
            ),
            ("hello world", "f line 1: not a refresh token"),
            (&format!("{T1}\nnope\n"), "f line 2: not a refresh token"),
            ("# only a comment\n", "f: no refresh tokens"),
        ] {
            let msg = parse("f", text).unwrap_err().to_string();
            assert!(
                msg.starts_with(needle) || msg.contains(needle),
                "{needle}: {msg}"
            );
            assert!(!msg.contains(T1) && !msg.contains(T2), "{msg}");
        }
    }

    #[test]
    fn directories_take_their_json_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("b.json"),
            format!(r#"{{"email": "b@x", "token": {{"refresh_token": "{T2}"}}}}"#),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("a.JSON"),
            format!(r#"{{"email": "a@x", "token": {{"refresh_token": "{T1}"}}}}"#),
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let entries = read(dir.path()).unwrap();
        let emails: Vec<_> = entries
            .iter()
            .map(|e| e.account.email.clone().unwrap())
            .collect();
        assert_eq!(emails, ["a@x", "b@x"]);
        assert!(entries[0].origin.ends_with("a.JSON"));

        let empty = tempfile::tempdir().unwrap();
        std::fs::create_dir(empty.path().join("accounts")).unwrap();
        let msg = read(empty.path()).unwrap_err().to_string();
        assert!(
            msg.contains("no *.json files") && msg.contains("accounts"),
            "{msg}"
        );
    }
}
