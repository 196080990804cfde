//! Environment variables and secrets (README "Configuration"; docs/contract.md "Deployment names")
//! → one typed `Config`, read once per isolate.

use worker::Env;

use crate::delivery::schedule;
use crate::providers::{Settings, REGISTRY};

#[derive(Debug, Clone)]
pub struct Config {
    /// `ADMIN_TOKEN`; None (unset or empty) makes `/v1` fail closed with 503.
    pub admin_token: Option<String>,
    /// `PUBLIC_BASE_URL` without a trailing slash.
    pub public_base_url: Option<String>,
    /// `ALLOW_INSECURE_TARGETS == "true"`.
    pub allow_insecure: bool,
    /// The deployment variables providers declare (`Spec::settings`), with their defaults.
    pub settings: Settings,
    /// Seconds between delivery attempts (`RETRY_SCHEDULE`, default in README "Configuration").
    pub retry_schedule: Vec<u32>,
    /// `TEST_ONLY_RETENTION_DAY_MS`: the length of a retention day in tests. Honoured only
    /// when `allow_insecure` is also set (`tenant::privacy::retention_day_ms`), which a
    /// production deployment never does; README "Personal data".
    pub test_only_retention_day_ms: Option<i64>,
    /// `TEST_ONLY_PACKAGES_TIMEOUT_MS`: how long a `packages_url` question may take in tests.
    /// Honoured only when `allow_insecure` is also set (`tenant::packages::timeout_ms`);
    /// README "What the ATSs call".
    pub test_only_packages_timeout_ms: Option<u64>,
}

fn read(env: &Env, name: &str) -> Option<String> {
    // `wrangler dev --var` and `[vars]` arrive as vars; `wrangler secret put` as secrets.
    // Both are plain strings in the environment, so either accessor finds them.
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|v| v.to_string()))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

impl Config {
    pub fn from_env(env: &Env) -> Config {
        let retry_schedule = match schedule::parse_schedule(read(env, "RETRY_SCHEDULE").as_deref())
        {
            Ok(s) => s,
            Err(e) => {
                worker::console_error!("{e}; using the default schedule");
                schedule::DEFAULT_SCHEDULE.to_vec()
            }
        };
        Config {
            admin_token: read(env, "ADMIN_TOKEN"),
            public_base_url: read(env, "PUBLIC_BASE_URL").map(|s| s.trim_end_matches('/').into()),
            allow_insecure: read(env, "ALLOW_INSECURE_TARGETS").as_deref() == Some("true"),
            settings: Settings(
                REGISTRY
                    .iter()
                    .flat_map(|p| p.settings)
                    .filter_map(|s| {
                        let v = read(env, s.env).or_else(|| s.default.map(str::to_string))?;
                        Some((s.env.to_string(), v))
                    })
                    .collect(),
            ),
            retry_schedule,
            test_only_retention_day_ms: read(env, "TEST_ONLY_RETENTION_DAY_MS")
                .and_then(|v| v.parse().ok()),
            test_only_packages_timeout_ms: read(env, "TEST_ONLY_PACKAGES_TIMEOUT_MS")
                .and_then(|v| v.parse().ok()),
        }
    }
}
