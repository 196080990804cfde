//! Tenant configuration rows in the object's SQLite storage.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use worker::SqlStorage;

use crate::admin::tenants::TenantConfig;
use crate::error::{ApiError, ApiResult, Context};

// The `tenant`, `keys` tables: created by step 1 of `migrations::LADDER` (frozen there);
// a change to them is a new step.

/// The tenant's configuration as last read or written by this object. Every write goes through
/// `write_config`, so the copy never goes stale; it saves a query and a JSON parse per call.
pub type ConfigCache = Rc<RefCell<Option<TenantConfig>>>;

pub fn read_config(sql: &SqlStorage, cache: &ConfigCache) -> ApiResult<TenantConfig> {
    if let Some(cfg) = cache.borrow().as_ref() {
        return Ok(cfg.clone());
    }
    #[derive(Deserialize)]
    struct Row {
        config: String,
    }
    let rows: Vec<Row> = sql
        .exec("SELECT config FROM tenant WHERE id = 1", None)
        .and_then(|c| c.to_array())
        .context("load config")?;
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    let cfg: TenantConfig = serde_json::from_str(&row.config).context("parse config")?;
    *cache.borrow_mut() = Some(cfg.clone());
    Ok(cfg)
}

pub fn write_config(sql: &SqlStorage, cache: &ConfigCache, cfg: &TenantConfig) -> ApiResult<()> {
    let text = serde_json::to_string(cfg).context("encode config")?;
    sql.exec(
        "INSERT INTO tenant (id, config) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET config = excluded.config",
        vec![text.into()],
    )
    .context("save config")?;
    *cache.borrow_mut() = Some(cfg.clone());
    Ok(())
}
