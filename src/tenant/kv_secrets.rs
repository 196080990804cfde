//! The tenant's KV-held secrets (webhook secret and its co-signers, secret provider
//! credential fields): one copy in memory, every change made there first and then written to
//! KV one write at a time (the module docs of `tenant` explain the races this prevents).

use super::Tenant;
use crate::admin::tenants::TenantSecrets;
use crate::error::{ApiError, ApiResult, Context};

impl Tenant {
    pub(super) async fn load_secrets(&self, tenant: &str) -> ApiResult<TenantSecrets> {
        if let Some(s) = self.secrets.borrow().as_ref() {
            return Ok(s.clone());
        }
        let s: TenantSecrets = self
            .kv()?
            .get(&format!("tenant:{tenant}"))
            .json()
            .await
            .context("read secrets")?
            .context("secrets in KV")?;
        // Another handler may have loaded (and changed) them while this one awaited: the
        // copy in memory is then the newer one.
        Ok(self.secrets.borrow_mut().get_or_insert(s).clone())
    }

    /// Change the tenant's secrets. `change` decides and applies the change on the in-memory
    /// copy with no await in between, so concurrent changes (two rotations) build on each
    /// other instead of one overwriting the other; then KV is written. On a KV failure the
    /// in-memory copy is dropped (the next reader gets KV's) and the answer is a 500.
    pub(super) async fn change_secrets<R>(
        &self,
        tenant: &str,
        change: impl FnOnce(&mut TenantSecrets) -> R,
    ) -> ApiResult<R> {
        self.load_secrets(tenant).await?;
        let (out, version) = {
            let mut slot = self.secrets.borrow_mut();
            let s = slot.as_mut().context("secrets in memory")?;
            let out = change(s);
            let v = self.secrets_version.get() + 1;
            self.secrets_version.set(v);
            (out, v)
        };
        self.persist_secrets(tenant, version).await?;
        Ok(out)
    }

    /// Write the in-memory secrets to KV until KV holds change `version` (one write at a
    /// time; each writes the newest copy, so the last to land is the newest).
    pub(super) async fn persist_secrets(&self, tenant: &str, version: u64) -> ApiResult<()> {
        let _turn = self.secrets_serial.turn().await;
        if self.secrets_written.get() >= version {
            return Ok(()); // an earlier write carried this change
        }
        let (text, newest) = match self.secrets.borrow().as_ref() {
            Some(s) => (
                serde_json::to_string(s).context("encode secrets")?,
                self.secrets_version.get(),
            ),
            // A failed write dropped the copy this change was made on.
            None => {
                return Err(ApiError::internal_because(
                    "secrets: a failed write dropped the copy this change was made on",
                ))
            }
        };
        let written = match self.kv()?.put(&format!("tenant:{tenant}"), text) {
            Ok(put) => put.execute().await.context("write secrets"),
            Err(e) => Err(e).context("kv put"),
        };
        match written {
            Ok(()) => {
                self.secrets_written
                    .set(self.secrets_written.get().max(newest));
                Ok(())
            }
            Err(e) => {
                *self.secrets.borrow_mut() = None;
                Err(e)
            }
        }
    }
}
