//! The environment Lambda gives a function's runtime, built from the emulator's configuration.
//! The emulator's own environment is inherited first (credentials, PATH, NODE_OPTIONS, as RIE
//! forwards them), then Lambda's reserved variables are set over it, then the user's extras.

use super::config::EmulatorConfig;
use super::platform_log::LogFormat;

/// The variables Lambda reserves, for one runtime started against `runtime_api` (`host:port`).
pub fn lambda_environment(config: &EmulatorConfig, runtime_api: &str) -> Vec<(String, String)> {
    let name = &config.function_name;
    let version = &config.function_version;
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.into()),
        ("_HANDLER".into(), config.handler.clone()),
        ("LAMBDA_TASK_ROOT".into(), config.task_root.display().to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), version.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            config.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_TIMEOUT".into(),
            format!("{}", config.timeout.as_secs_f64().ceil() as u64),
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), log_stream_name(version)),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE".into(),
            if config.snapstart_pause.is_some() {
                "snap-start"
            } else {
                "on-demand"
            }
            .into(),
        ),
        ("AWS_REGION".into(), config.region.clone()),
        ("AWS_DEFAULT_REGION".into(), config.region.clone()),
        ("TZ".into(), ":UTC".into()),
    ];
    if let Some(exec) = &config.execution_env {
        env.push(("AWS_EXECUTION_ENV".into(), exec.clone()));
    }
    if let Some(dir) = &config.runtime_dir {
        env.push(("LAMBDA_RUNTIME_DIR".into(), dir.display().to_string()));
    }
    // Advanced logging controls: Lambda only sets these when the function is configured for them.
    if config.log_format == LogFormat::Json {
        env.push(("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()));
    }
    if let Some(level) = &config.log_level {
        env.push(("AWS_LAMBDA_LOG_LEVEL".into(), level.to_ascii_uppercase()));
    }
    if config.max_concurrency > 1 {
        env.push((
            "AWS_LAMBDA_MAX_CONCURRENCY".into(),
            config.max_concurrency.to_string(),
        ));
    }
    env.extend(config.env.iter().cloned());
    env
}

/// `2026/11/28/[$LATEST]<32 hex>`, the shape of a Lambda log stream name.
fn log_stream_name(version: &str) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let date = super::platform_log::iso_time(std::time::UNIX_EPOCH + secs);
    let (y, m, d) = (&date[0..4], &date[5..7], &date[8..10]);
    format!("{y}/{m}/{d}/[{version}]{:032x}", random_u128())
}

/// Good enough for ids that must be unique per process, not secret: time, pid and a counter
/// through a SplitMix-style mixer.
pub fn random_u128() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let seed = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let a = mix(seed);
    let b = mix(a ^ 0xD1B5_4A32_D192_ED03);
    (u128::from(a) << 64) | u128::from(b)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A request id in Lambda's UUID v4 format.
pub fn new_request_id() -> String {
    let r = random_u128();
    let r = (r & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{r:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
        env.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn sets_the_reserved_variables_and_lets_extras_override() {
        let config = EmulatorConfig {
            function_name: "demo".into(),
            memory_mb: 256,
            handler: "app.handler".into(),
            execution_env: Some("AWS_Lambda_nodejs22.x".into()),
            log_format: LogFormat::Json,
            log_level: Some("debug".into()),
            env: vec![("AWS_REGION".into(), "eu-west-1".into())],
            ..EmulatorConfig::default()
        };
        let env = lambda_environment(&config, "127.0.0.1:1234");
        assert_eq!(get(&env, "AWS_LAMBDA_RUNTIME_API"), Some("127.0.0.1:1234"));
        assert_eq!(get(&env, "_HANDLER"), Some("app.handler"));
        assert_eq!(get(&env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("256"));
        assert_eq!(get(&env, "AWS_LAMBDA_LOG_GROUP_NAME"), Some("/aws/lambda/demo"));
        assert_eq!(get(&env, "AWS_LAMBDA_LOG_FORMAT"), Some("JSON"));
        assert_eq!(get(&env, "AWS_LAMBDA_LOG_LEVEL"), Some("DEBUG"));
        assert_eq!(get(&env, "AWS_EXECUTION_ENV"), Some("AWS_Lambda_nodejs22.x"));
        assert_eq!(get(&env, "AWS_REGION"), Some("eu-west-1"));
        let stream = get(&env, "AWS_LAMBDA_LOG_STREAM_NAME").unwrap();
        assert!(
            stream.contains("/[$LATEST]") && stream.len() == "2026/11/28/[$LATEST]".len() + 32,
            "{stream}"
        );
        assert_eq!(get(&env, "AWS_LAMBDA_MAX_CONCURRENCY"), None);
    }

    #[test]
    fn request_ids_are_unique_uuid_v4() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
