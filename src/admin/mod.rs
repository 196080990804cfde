//! `/v1` request parsing and response shaping. Pure functions over JSON values; the tenant
//! Durable Object calls them and owns the storage side.

pub mod connect;
pub mod query;
pub mod tenants;
