//! Writing settings changed in the admin API back to the TOML config file (the
//! one in use, else `<data dir>/config.toml`), keeping every other key, the
//! comments and the layout. The result must still load as a config file; it
//! replaces the old one atomically and is readable by its owner only (it may
//! hold the API key).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::config::RawConfig;

/// Why the file could not be written. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not valid TOML, so it was left alone: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the edited file would not load ({0}); nothing was written")]
    Invalid(String),
}

/// One change to the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Port(u16),
    AllowLanAccess(bool),
    AuthMode(String),
    ApiKey(String),
    /// The whole `[models.mapping]` table (empty: removed).
    Mapping(BTreeMap<String, String>),
}

/// The config file the admin API writes to.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
}

impl ConfigFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text now (`None`: it does not exist).
    pub async fn read(&self) -> Result<Option<String>, FileError> {
        match tokio::fs::read_to_string(&self.path).await {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(FileError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Apply `edits` and write the file. Returns the previous text, for
    /// [`ConfigFile::restore`] when what follows fails.
    pub async fn apply(&self, edits: &[Edit]) -> Result<Option<String>, FileError> {
        let old = self.read().await?;
        let text =
            edit(old.as_deref().unwrap_or(""), edits).map_err(|message| FileError::Parse {
                path: self.path.clone(),
                message,
            })?;
        RawConfig::from_toml(&text, &self.path).map_err(|e| FileError::Invalid(e.to_string()))?;
        self.write(&text).await?;
        Ok(old)
    }

    /// Put back what [`ConfigFile::apply`] returned.
    pub async fn restore(&self, old: Option<String>) -> Result<(), FileError> {
        match old {
            Some(text) => self.write(&text).await,
            None => match tokio::fs::remove_file(&self.path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(FileError::Write {
                    path: self.path.clone(),
                    source,
                }),
            },
        }
    }

    /// Write to a temporary file next to it, then rename over it.
    async fn write(&self, text: &str) -> Result<(), FileError> {
        let error = |source| FileError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        tokio::fs::create_dir_all(&dir).await.map_err(error)?;
        let name = self.path.file_name().map_or_else(
            || "config.toml".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let temp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        let result = async {
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            options.mode(0o600);
            let mut file = options.open(&temp).await?;
            tokio::io::AsyncWriteExt::write_all(&mut file, text.as_bytes()).await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&temp, &self.path).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result.map_err(error)
    }
}

/// `text` with `edits` applied; other keys, comments and order are kept.
pub fn edit(text: &str, edits: &[Edit]) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().to_owned())?;
    for change in edits {
        match change {
            Edit::Port(port) => set(&mut doc, "port", i64::from(*port).into()),
            Edit::AllowLanAccess(on) => set(&mut doc, "allow_lan_access", (*on).into()),
            Edit::AuthMode(mode) => set(&mut doc, "auth_mode", mode.as_str().into()),
            Edit::ApiKey(key) => set(&mut doc, "api_key", key.as_str().into()),
            Edit::Mapping(mapping) => set_mapping(&mut doc, mapping)?,
        }
    }
    Ok(doc.to_string())
}

/// Set a top-level key, keeping the comment and spacing around its old value.
fn set(doc: &mut DocumentMut, key: &str, new: toml_edit::Value) {
    let root = doc.as_table_mut();
    match root.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            let decor = old.decor().clone();
            *old = new;
            *old.decor_mut() = decor;
        }
        None => {
            root.insert(key, Item::Value(new));
        }
    }
}

fn set_mapping(doc: &mut DocumentMut, mapping: &BTreeMap<String, String>) -> Result<(), String> {
    let root = doc.as_table_mut();
    if !root.contains_key("models") {
        if mapping.is_empty() {
            return Ok(());
        }
        let mut models = Table::new();
        models.set_implicit(true);
        root.insert("models", Item::Table(models));
    }
    let models = root
        .get_mut("models")
        .and_then(Item::as_table_like_mut)
        .ok_or("`models` is not a table")?;
    if mapping.is_empty() {
        models.remove("mapping");
        return Ok(());
    }
    let mut table = Table::new();
    for (from, to) in mapping {
        table.insert(from, value(to.as_str()));
    }
    models.insert("mapping", Item::Table(table));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_other_keys_and_comments() {
        let before = "# my gateway\nport = 8045 # the port\napi_key = \"sk-old-0123456789\"\n\n[log]\nlevel = \"debug\"\n";
        let after = edit(
            before,
            &[
                Edit::Port(9000),
                Edit::AuthMode("strict".into()),
                Edit::AllowLanAccess(true),
            ],
        )
        .unwrap();
        assert!(
            after.starts_with("# my gateway\nport = 9000 # the port\n"),
            "{after}"
        );
        assert!(after.contains("api_key = \"sk-old-0123456789\""));
        assert!(after.contains("auth_mode = \"strict\""));
        assert!(after.contains("[log]\nlevel = \"debug\""));
        let raw = RawConfig::from_toml(&after, Path::new("x")).unwrap();
        assert_eq!(raw.port, Some(9000));
        assert_eq!(raw.allow_lan_access, Some(true));
        assert_eq!(raw.log.level.as_deref(), Some("debug"));
    }

    #[test]
    fn the_mapping_table_is_replaced_created_and_removed() {
        let mapping: BTreeMap<String, String> = [
            ("gpt-4o".to_owned(), "gemini-2.5-pro".to_owned()),
            ("claude-*-haiku-*".to_owned(), "gemini-2.5-flash".to_owned()),
        ]
        .into();
        let text = edit("port = 1\n", &[Edit::Mapping(mapping.clone())]).unwrap();
        let raw = RawConfig::from_toml(&text, Path::new("x")).unwrap();
        assert_eq!(raw.models.mapping.as_ref(), Some(&mapping));

        let text = edit(
            "[models]\nbackground_model = \"gemini-2.5-flash\"\nmapping = { a = \"b\" }\n",
            &[Edit::Mapping(mapping.clone())],
        )
        .unwrap();
        let raw = RawConfig::from_toml(&text, Path::new("x")).unwrap();
        assert_eq!(raw.models.mapping.as_ref(), Some(&mapping));
        assert_eq!(
            raw.models.background_model.as_deref(),
            Some("gemini-2.5-flash")
        );

        let text = edit(&text, &[Edit::Mapping(BTreeMap::new())]).unwrap();
        let raw = RawConfig::from_toml(&text, Path::new("x")).unwrap();
        assert_eq!(raw.models.mapping, None);
        assert_eq!(edit("", &[Edit::Mapping(BTreeMap::new())]).unwrap(), "");
    }

    #[test]
    fn a_broken_file_is_left_alone() {
        assert!(edit("port = = 3", &[Edit::Port(1)]).is_err());
        assert!(
            edit(
                "models = 3",
                &[Edit::Mapping([("a".into(), "b".into())].into())]
            )
            .is_err()
        );
    }

    #[tokio::test]
    async fn apply_writes_owner_only_and_restore_puts_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = ConfigFile::new(dir.path().join("config.toml"));
        let old = file.apply(&[Edit::Port(1234)]).await.unwrap();
        assert_eq!(old, None);
        assert_eq!(file.read().await.unwrap().as_deref(), Some("port = 1234\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let old = file
            .apply(&[Edit::ApiKey("sk-new-0123456789".into())])
            .await
            .unwrap();
        assert_eq!(old.as_deref(), Some("port = 1234\n"));
        file.restore(old).await.unwrap();
        assert_eq!(file.read().await.unwrap().as_deref(), Some("port = 1234\n"));
        file.restore(None).await.unwrap();
        assert_eq!(file.read().await.unwrap(), None);
        // Only the config file is left in the directory: no temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
