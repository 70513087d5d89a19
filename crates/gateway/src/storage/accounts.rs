//! The `accounts` table: upstream OAuth accounts, their status and cached project.

use sqlx::Row;

use super::{Storage, StorageError, unix_now};

/// Whether an account may serve requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Turned off by the user or by a permanent error (e.g. `invalid_grant`).
    Disabled,
    /// The upstream wants the user to verify the account (403 VALIDATION_REQUIRED).
    Blocked,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::Blocked => "blocked",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "disabled" => AccountStatus::Disabled,
            "blocked" => AccountStatus::Blocked,
            _ => AccountStatus::Active,
        }
    }
}

/// An account as stored.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub id: i64,
    pub email: Option<String>,
    pub refresh_token: secrecy::SecretString,
    pub project_id: Option<String>,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub validation_url: Option<String>,
}

/// An account to add or update (matched by email, else by refresh token).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: Option<String>,
    pub refresh_token: String,
    pub project_id: Option<String>,
}

impl Storage {
    pub async fn accounts(&self) -> Result<Vec<AccountRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, email, refresh_token, project_id, status, status_reason, validation_url \
             FROM accounts ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AccountRecord {
                    id: row.try_get("id")?,
                    email: row.try_get("email")?,
                    refresh_token: secrecy::SecretString::from(
                        row.try_get::<String, _>("refresh_token")?,
                    ),
                    project_id: row.try_get("project_id")?,
                    status: AccountStatus::parse(&row.try_get::<String, _>("status")?),
                    status_reason: row.try_get("status_reason")?,
                    validation_url: row.try_get("validation_url")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StorageError::from)
    }

    /// Insert, or update the account with the same email (else the same refresh
    /// token). Returns the account id. Re-importing never duplicates.
    pub async fn upsert_account(&self, account: &NewAccount) -> Result<i64, StorageError> {
        let mut tx = self.pool.begin().await?;
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE (email IS NOT NULL AND email = ?) OR refresh_token = ? \
             ORDER BY (email = ?) DESC LIMIT 1",
        )
        .bind(&account.email)
        .bind(&account.refresh_token)
        .bind(&account.email)
        .fetch_optional(&mut *tx)
        .await?;
        let now = unix_now();
        let id = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE accounts SET email = COALESCE(?, email), refresh_token = ?, \
                     project_id = COALESCE(?, project_id), updated_at = ? WHERE id = ?",
                )
                .bind(&account.email)
                .bind(&account.refresh_token)
                .bind(&account.project_id)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => sqlx::query(
                "INSERT INTO accounts (email, refresh_token, project_id, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&account.email)
            .bind(&account.refresh_token)
            .bind(&account.project_id)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .last_insert_rowid(),
        };
        tx.commit().await?;
        Ok(id)
    }

    pub async fn set_account_project(&self, id: i64, project: &str) -> Result<(), StorageError> {
        sqlx::query("UPDATE accounts SET project_id = ?, updated_at = ? WHERE id = ?")
            .bind(project)
            .bind(unix_now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_account_email(&self, id: i64, email: &str) -> Result<(), StorageError> {
        sqlx::query("UPDATE accounts SET email = ?, updated_at = ? WHERE id = ?")
            .bind(email)
            .bind(unix_now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_account_status(
        &self,
        id: i64,
        status: AccountStatus,
        reason: Option<&str>,
        validation_url: Option<&str>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE accounts SET status = ?, status_reason = ?, validation_url = ?, updated_at = ? WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(validation_url)
        .bind(unix_now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl Storage {
    /// The account whose id (all digits) or email (case-insensitive) is `key`.
    pub async fn find_account(&self, key: &str) -> Result<Option<AccountRecord>, StorageError> {
        let key = key.trim();
        let id: Option<i64> = key
            .chars()
            .all(|c| c.is_ascii_digit())
            .then(|| key.parse().ok())
            .flatten();
        Ok(self.accounts().await?.into_iter().find(|a| match id {
            Some(id) => a.id == id,
            None => a
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(key)),
        }))
    }

    /// Delete an account. Returns whether it existed.
    pub async fn remove_account(&self, id: i64) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// After a new refresh token was stored: an account that was disabled because
    /// its old token was revoked (`invalid_grant`) becomes active again. Returns
    /// whether it did.
    pub async fn reactivate_if_revoked(&self, id: i64) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE accounts SET status = 'active', status_reason = NULL, validation_url = NULL, \
             updated_at = ? WHERE id = ? AND status = 'disabled' AND status_reason LIKE 'invalid_grant%'",
        )
        .bind(unix_now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The persisted quota snapshot (`quota_json`) of every account that has one.
    pub async fn account_quotas(&self) -> Result<Vec<(i64, String)>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, quota_json FROM accounts WHERE quota_json IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("quota_json")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StorageError::from)
    }

    /// Replace an account's quota snapshot (JSON, see `pool::quota`).
    pub async fn set_account_quota(&self, id: i64, quota_json: &str) -> Result<(), StorageError> {
        sqlx::query("UPDATE accounts SET quota_json = ? WHERE id = ?")
            .bind(quota_json)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[tokio::test]
    async fn upsert_matches_by_email_then_token_and_never_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).await.unwrap();
        let a = NewAccount {
            email: Some("a@x".into()),
            refresh_token: "rt1".into(),
            project_id: None,
        };
        let id = s.upsert_account(&a).await.unwrap();
        // Same email, new token: update.
        let id2 = s
            .upsert_account(&NewAccount {
                refresh_token: "rt2".into(),
                project_id: Some("p".into()),
                ..a.clone()
            })
            .await
            .unwrap();
        assert_eq!(id, id2);
        // Same token, no email: update, email kept.
        let id3 = s
            .upsert_account(&NewAccount {
                email: None,
                refresh_token: "rt2".into(),
                project_id: None,
            })
            .await
            .unwrap();
        assert_eq!(id, id3);
        let all = s.accounts().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].email.as_deref(), Some("a@x"));
        assert_eq!(all[0].refresh_token.expose_secret(), "rt2");
        assert_eq!(all[0].project_id.as_deref(), Some("p"));

        s.set_account_status(
            id,
            AccountStatus::Blocked,
            Some("verify"),
            Some("https://v"),
        )
        .await
        .unwrap();
        let all = s.accounts().await.unwrap();
        assert_eq!(all[0].status, AccountStatus::Blocked);
        assert_eq!(all[0].validation_url.as_deref(), Some("https://v"));
        s.close().await;
    }
    #[tokio::test]
    async fn find_remove_reactivate_and_quota() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).await.unwrap();
        let a = s
            .upsert_account(&NewAccount {
                email: Some("A@x".into()),
                refresh_token: "rt1".into(),
                project_id: None,
            })
            .await
            .unwrap();
        let b = s
            .upsert_account(&NewAccount {
                email: None,
                refresh_token: "rt2".into(),
                project_id: None,
            })
            .await
            .unwrap();
        assert_eq!(s.find_account("a@X").await.unwrap().unwrap().id, a);
        assert_eq!(s.find_account(&b.to_string()).await.unwrap().unwrap().id, b);
        assert!(s.find_account("999").await.unwrap().is_none());
        assert!(s.find_account("nobody@x").await.unwrap().is_none());

        // Only a revoked token's disablement is lifted by a new token.
        s.set_account_status(a, AccountStatus::Disabled, Some("by hand"), None)
            .await
            .unwrap();
        assert!(!s.reactivate_if_revoked(a).await.unwrap());
        s.set_account_status(a, AccountStatus::Disabled, Some("invalid_grant: x"), None)
            .await
            .unwrap();
        assert!(s.reactivate_if_revoked(a).await.unwrap());
        let rec = s.find_account("a@x").await.unwrap().unwrap();
        assert_eq!(
            (rec.status, rec.status_reason),
            (AccountStatus::Active, None)
        );

        assert!(s.account_quotas().await.unwrap().is_empty());
        s.set_account_quota(b, "{}").await.unwrap();
        assert_eq!(
            s.account_quotas().await.unwrap(),
            vec![(b, "{}".to_owned())]
        );

        assert!(s.remove_account(b).await.unwrap());
        assert!(!s.remove_account(b).await.unwrap());
        assert_eq!(s.accounts().await.unwrap().len(), 1);
        s.close().await;
    }
}
