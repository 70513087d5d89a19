//! Layering, validation and error messages of the configuration.

use std::collections::HashMap;
use std::net::SocketAddr;

use secrecy::ExposeSecret;

use super::*;

fn sources(dir: &Path, file: Option<&str>, env: &[(&str, &str)], flags: RawConfig) -> Sources {
    let config_file = file.map(|text| {
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    });
    Sources {
        data_dir: Some(dir.to_path_buf()),
        config_file,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        flags,
    }
}

fn load(file: Option<&str>, env: &[(&str, &str)], flags: RawConfig) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    Config::load(&sources(dir.path(), file, env, flags))
}

#[test]
fn defaults_with_no_configuration_at_all() {
    let c = load(None, &[], RawConfig::default()).unwrap();
    assert_eq!(c.listen, "127.0.0.1:8045".parse::<SocketAddr>().unwrap());
    assert_eq!(c.auth_mode, AuthMode::Off);
    assert!(c.auth_mode_auto);
    assert!(matches!(c.api_key, ApiKeySetting::Generate));
    assert_eq!(c.request_timeout, Duration::from_secs(600));
    assert_eq!(c.max_body_bytes, 32 * 1024 * 1024);
    assert_eq!(c.config_file, None);
    assert_eq!(c.log.level, "info");
}

#[test]
fn the_default_config_file_lives_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "port = 9001\n").unwrap();
    let c = Config::load(&Sources {
        data_dir: Some(dir.path().to_path_buf()),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(c.listen.port(), 9001);
    assert_eq!(c.config_file, Some(dir.path().join("config.toml")));
}

#[test]
fn data_dir_and_config_come_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("elsewhere.toml");
    std::fs::write(&other, "port = 9002\n").unwrap();
    let env: HashMap<String, String> = [
        (
            "UPLINK_DATA_DIR".to_owned(),
            dir.path().join("d").display().to_string(),
        ),
        ("UPLINK_CONFIG".to_owned(), other.display().to_string()),
    ]
    .into();
    let c = Config::load(&Sources {
        env,
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(c.data_dir, dir.path().join("d"));
    assert_eq!(c.listen.port(), 9002);
}

#[test]
fn layers_apply_in_order_defaults_file_env_flags() {
    let file =
        "port = 1111\nauth_mode = \"strict\"\nrequest_timeout_secs = 5\n[log]\nlevel = \"debug\"\n";
    // File alone.
    let c = load(Some(file), &[], RawConfig::default()).unwrap();
    assert_eq!((c.listen.port(), c.auth_mode), (1111, AuthMode::Strict));
    assert_eq!(c.request_timeout, Duration::from_secs(5));
    assert_eq!(c.log.level, "debug");
    // Environment beats the file.
    let env = [
        ("UPLINK_PORT", "2222"),
        ("UPLINK_AUTH_MODE", "all_except_health"),
    ];
    let c = load(Some(file), &env, RawConfig::default()).unwrap();
    assert_eq!(
        (c.listen.port(), c.auth_mode),
        (2222, AuthMode::AllExceptHealth)
    );
    assert_eq!(
        c.request_timeout,
        Duration::from_secs(5),
        "untouched keys keep the file's value"
    );
    // Flags beat the environment.
    let flags = RawConfig {
        port: Some(3333),
        ..RawConfig::default()
    };
    let c = load(Some(file), &env, flags).unwrap();
    assert_eq!(
        (c.listen.port(), c.auth_mode),
        (3333, AuthMode::AllExceptHealth)
    );
}

#[test]
fn lan_access_decides_the_bind_address_and_the_auto_auth_mode() {
    let c = load(
        None,
        &[("UPLINK_ALLOW_LAN_ACCESS", "false")],
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!(c.listen.ip().to_string(), "127.0.0.1");
    assert_eq!(c.auth_mode, AuthMode::Off);
    assert!(!c.is_lan_exposed());

    let c = load(
        None,
        &[("UPLINK_ALLOW_LAN_ACCESS", "true")],
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!(c.listen.ip().to_string(), "0.0.0.0");
    assert_eq!(c.auth_mode, AuthMode::AllExceptHealth);
    assert!(c.auth_mode_auto);
    assert!(c.is_lan_exposed());

    // An explicit bind overrides both ways.
    let c = load(
        Some("allow_lan_access = true\nbind = \"127.0.0.2\""),
        &[],
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!(c.listen.ip().to_string(), "127.0.0.2");
    assert_eq!(c.explicit_bind, Some(c.listen.ip()));
    assert_eq!(c.auth_mode, AuthMode::Off);
    let c = load(Some("bind = \"0.0.0.0\""), &[], RawConfig::default()).unwrap();
    assert_eq!(c.auth_mode, AuthMode::AllExceptHealth);
    assert!(
        c.explicit_bind.is_some(),
        "even when it matches what LAN access would pick"
    );
    let c = load(Some("allow_lan_access = true"), &[], RawConfig::default()).unwrap();
    assert_eq!(c.explicit_bind, None);

    // An explicit mode wins over auto.
    let c = load(
        Some("allow_lan_access = true\nauth_mode = \"off\""),
        &[],
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!((c.auth_mode, c.auth_mode_auto), (AuthMode::Off, false));
}

#[test]
fn api_key_rules() {
    let ok = load(
        None,
        &[("UPLINK_API_KEY", "sk-1234567")],
        RawConfig::default(),
    )
    .unwrap();
    match ok.api_key {
        ApiKeySetting::Configured(k) => assert_eq!(k.expose_secret(), "sk-1234567"),
        other => panic!("{other:?}"),
    }
    for bad in ["abcdefghijkl", "sk-123456", "pk-1234567890"] {
        let err = load(None, &[("UPLINK_API_KEY", bad)], RawConfig::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`api_key`") && msg.contains("sk-"), "{msg}");
        assert!(
            !msg.contains(bad),
            "the key itself must not be echoed: {msg}"
        );
    }
    // Empty key: fine with auth off, refused with any other mode.
    let c = load(
        Some("api_key = \"\"\nauth_mode = \"off\""),
        &[],
        RawConfig::default(),
    )
    .unwrap();
    assert!(matches!(c.api_key, ApiKeySetting::Disabled));
    for mode in ["strict", "all_except_health"] {
        let file = format!("api_key = \"\"\nauth_mode = \"{mode}\"");
        let msg = load(Some(&file), &[], RawConfig::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("api_key") && msg.contains("empty"), "{msg}");
    }
    // auto on the LAN resolves to all_except_health, which needs a key.
    let msg = load(
        Some("api_key = \"\"\nallow_lan_access = true"),
        &[],
        RawConfig::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("all_except_health"), "{msg}");
}

#[test]
fn unknown_keys_name_the_key_and_the_file() {
    let msg = load(Some("port = 1\nprot = 2\n"), &[], RawConfig::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("prot") && msg.contains("config.toml:2"),
        "{msg}"
    );
    let msg = load(Some("[log]\nlevle = \"x\"\n"), &[], RawConfig::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("levle"), "{msg}");
}

#[test]
fn bad_values_name_the_setting() {
    type Case<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (None, &[("UPLINK_PORT", "eighty")], "UPLINK_PORT"),
        (None, &[("UPLINK_PORT", "70000")], "UPLINK_PORT"),
        (
            None,
            &[("UPLINK_ALLOW_LAN_ACCESS", "maybe")],
            "UPLINK_ALLOW_LAN_ACCESS",
        ),
        (None, &[("UPLINK_AUTH_MODE", "sometimes")], "auth_mode"),
        (Some("bind = \"localhost:80\""), &[], "bind"),
        (
            Some("request_timeout_secs = 0"),
            &[],
            "request_timeout_secs",
        ),
        (Some("max_body_bytes = 0"), &[], "max_body_bytes"),
        (Some("port = \"8045\""), &[], "config.toml"),
        (None, &[("UPLINK_LOG_LEVEL", "loud=[")], "log.level"),
    ];
    for (file, env, needle) in cases {
        let msg = load(*file, env, RawConfig::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
    }
}

#[test]
fn an_explicit_config_file_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let err = Config::load(&Sources {
        data_dir: Some(dir.path().to_path_buf()),
        config_file: Some(dir.path().join("missing.toml")),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
}

#[test]
fn redaction_shows_only_a_prefix() {
    let s = redact(&SecretString::from("sk-0123456789abcdef"));
    assert_eq!(s, "sk-012…");
}

#[test]
fn upstream_endpoints_and_oauth_urls() {
    let c = load(None, &[], RawConfig::default()).unwrap();
    assert_eq!(c.cloudcode.endpoints.len(), 3);
    assert!(c.cloudcode.endpoints[0].starts_with("https://daily-cloudcode-pa.sandbox"));
    assert_eq!(c.oauth.token_url, DEFAULT_OAUTH_TOKEN_URL);
    assert_eq!(c.oauth.client_id, None);

    let env = [
        (
            "UPLINK_CLOUDCODE_ENDPOINTS",
            "http://127.0.0.1:1/a/v1internal/, http://127.0.0.1:2/v1internal",
        ),
        ("UPLINK_OAUTH_TOKEN_URL", "http://127.0.0.1:3/token"),
        ("UPLINK_OAUTH_CLIENT_ID", "cid"),
        ("UPLINK_OAUTH_CLIENT_SECRET", "shh"),
    ];
    let c = load(
        Some("[cloudcode]\nendpoints = [\"https://x/v1internal\"]\n"),
        &env,
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!(
        c.cloudcode.endpoints,
        vec![
            "http://127.0.0.1:1/a/v1internal",
            "http://127.0.0.1:2/v1internal"
        ]
    );
    assert_eq!(c.oauth.token_url, "http://127.0.0.1:3/token");
    assert_eq!(c.oauth.client_id.as_deref(), Some("cid"));
    assert_eq!(
        c.oauth.client_secret.as_ref().map(|s| s.expose_secret()),
        Some("shh")
    );

    for (file, needle) in [
        ("[cloudcode]\nendpoints = []", "cloudcode.endpoints"),
        (
            "[cloudcode]\nendpoints = [\"ftp://x\"]",
            "cloudcode.endpoints",
        ),
        ("[oauth]\ntoken_url = \"nope\"", "oauth.token_url"),
        ("[oauth]\nclient = \"x\"", "client"),
    ] {
        let msg = load(Some(file), &[], RawConfig::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
}

#[test]
fn scheduling_and_model_mapping() {
    let c = load(None, &[], RawConfig::default()).unwrap();
    assert_eq!(c.scheduling.mode, SchedulingMode::Balance);
    assert_eq!(c.scheduling.max_attempts, 10);
    assert_eq!(c.scheduling.retry_budget, Duration::from_secs(30));
    assert_eq!(c.scheduling.max_wait, Duration::from_secs(5));
    assert!(c.model_mapping.is_empty());

    let file = "[scheduling]\nmode = \"sticky\"\nmax_attempts = 3\n[models.mapping]\n\"gpt-*\" = \"gemini-2.5-pro\"\n";
    let c = load(
        Some(file),
        &[("UPLINK_MAX_WAIT_SECS", "0")],
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!(c.scheduling.mode, SchedulingMode::Sticky);
    assert_eq!(c.scheduling.max_attempts, 3);
    assert_eq!(c.scheduling.max_wait, Duration::ZERO);
    assert_eq!(
        c.model_mapping.get("gpt-*").map(String::as_str),
        Some("gemini-2.5-pro")
    );

    for (file, needle) in [
        ("[scheduling]\nmode = \"random\"", "scheduling.mode"),
        ("[scheduling]\nmode = \"fixed\"", "preferred_account"),
        ("[scheduling]\nmax_attempts = 0", "scheduling.max_attempts"),
        ("[models.mapping]\n\"x\" = \"\"", "models.mapping"),
        ("[models]\nmap = {}", "map"),
    ] {
        let msg = load(Some(file), &[], RawConfig::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
}

#[test]
fn providers_are_validated_and_route_by_model_and_protocol() {
    use providers::{Dispatch, ProviderKind};
    use uplink_protocol::error::Dialect;
    let file = r#"
[[providers]]
id = "zai"
kind = "anthropic"
base_url = "https://api.z.ai/api/anthropic/"
api_keys_env = "ZAI_KEYS"
models = ["claude-*"]
mapping = { "claude-*" = "glm-4.6" }
dispatch = "fallback"
protocols = ["anthropic"]

[[providers]]
id = "studio"
kind = "gemini"
base_url = "https://generativelanguage.googleapis.com"
api_keys = ["k1", "k2"]
models = ["gemini-2.5-flash"]
"#;
    let c = load(Some(file), &[("ZAI_KEYS", "z1, z2,")], RawConfig::default()).unwrap();
    assert_eq!(c.providers.len(), 2);
    let zai = &c.providers[0];
    assert_eq!(
        (zai.kind, zai.dispatch),
        (ProviderKind::Anthropic, Dispatch::Fallback)
    );
    assert_eq!(zai.base_url, "https://api.z.ai/api/anthropic");
    assert_eq!(
        zai.endpoint.as_ref().map(ToString::to_string).as_deref(),
        Some("https://api.z.ai/api/anthropic/v1/messages")
    );
    assert_eq!(zai.keys.len(), 2);
    assert!(zai.serves(Dialect::Anthropic, "claude-sonnet-4-5"));
    assert!(
        !zai.serves(Dialect::OpenAi, "claude-sonnet-4-5"),
        "protocols filter"
    );
    assert!(!zai.serves(Dialect::Anthropic, "gemini-2.5-flash"));
    assert_eq!(zai.model_for("claude-sonnet-4-5"), "glm-4.6");
    let studio = &c.providers[1];
    assert_eq!(studio.dispatch, Dispatch::Pooled, "the default");
    assert!(studio.serves(Dialect::OpenAi, "gemini-2.5-flash"));
    assert_eq!(studio.model_for("gemini-2.5-flash"), "gemini-2.5-flash");

    let base = "[[providers]]\nid = \"p\"\nkind = \"openai\"\nbase_url = \"http://h/v1\"\napi_keys = [\"k\"]\nmodels = [\"m\"]\n";
    for (file, needle) in [
        (base.replace("openai", "cohere"), "kind `cohere`"),
        (base.replace("http://h/v1", "h/v1"), "not an http(s) URL"),
        (
            base.replace("http://h/v1", "http://bad host/v1"),
            "`http://bad host/v1` is not a valid URL",
        ),
        (
            base.replace("api_keys = [\"k\"]", "api_keys = []"),
            "no API key",
        ),
        (
            base.replace("api_keys = [\"k\"]", "api_keys_env = \"NOPE\""),
            "`NOPE`, which is not set",
        ),
        (
            base.replace("models = [\"m\"]", "models = []"),
            "lists no models",
        ),
        (
            format!("{base}dispatch = \"sometimes\"\n"),
            "dispatch `sometimes`",
        ),
        (format!("{base}protocols = [\"grpc\"]\n"), "protocol `grpc`"),
        (format!("{base}\n{base}"), "used twice"),
        (format!("{base}api_key = \"x\"\n"), "api_key"),
    ] {
        let msg = load(Some(&file), &[], RawConfig::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(needle), "{needle}: {msg}");
        assert!(!msg.contains("\"k\""), "keys are not echoed: {msg}");
    }
}

#[test]
fn admin_password_from_file_or_environment_and_never_empty() {
    let c = load(None, &[], RawConfig::default()).unwrap();
    assert!(c.admin_password.is_none(), "unset: the API key serves");
    let c = load(
        Some("admin_password = \"from-file\""),
        &[],
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!(c.admin_password.unwrap().expose_secret(), "from-file");
    let c = load(
        Some("admin_password = \"from-file\""),
        &[("UPLINK_ADMIN_PASSWORD", "from-env")],
        RawConfig::default(),
    )
    .unwrap();
    assert_eq!(c.admin_password.unwrap().expose_secret(), "from-env");
    for empty in ["", "  "] {
        let msg = load(
            None,
            &[("UPLINK_ADMIN_PASSWORD", empty)],
            RawConfig::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("admin_password") && msg.contains("empty"),
            "{msg}"
        );
    }
}

#[test]
fn runtime_defaults_to_one_thread_that_busy_polls_and_layers_like_the_rest() {
    let c = load(None, &[], RawConfig::default()).unwrap();
    assert_eq!(c.runtime.worker_threads, 1);
    assert_eq!(
        c.runtime.busy_poll(),
        Some(Duration::from_micros(DEFAULT_BUSY_POLL_US))
    );

    let file = "[runtime]\nworker_threads = 4\nbusy_poll_us = 50\n";
    let c = load(Some(file), &[], RawConfig::default()).unwrap();
    assert_eq!(c.runtime.worker_threads, 4);
    // Spinning on one of several threads would not see the sockets' events.
    assert_eq!(c.runtime.busy_poll(), None);

    let env = [("UPLINK_WORKER_THREADS", "1"), ("UPLINK_BUSY_POLL_US", "0")];
    let c = load(Some(file), &env, RawConfig::default()).unwrap();
    assert_eq!(c.runtime.worker_threads, 1);
    assert_eq!(c.runtime.busy_poll(), None);

    let c = load(
        Some("[runtime]\nworker_threads = 0\n"),
        &[],
        RawConfig::default(),
    )
    .unwrap();
    assert!(c.runtime.worker_threads >= 1, "0 means one per core");
}

#[test]
fn runtime_settings_out_of_range_are_refused_by_name() {
    for (file, setting) in [
        ("[runtime]\nbusy_poll_us = 20000\n", "runtime.busy_poll_us"),
        (
            "[runtime]\nworker_threads = 100000\n",
            "runtime.worker_threads",
        ),
    ] {
        let msg = load(Some(file), &[], RawConfig::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(setting), "{msg}");
    }
    let msg = load(
        None,
        &[("UPLINK_BUSY_POLL_US", "soon")],
        RawConfig::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("UPLINK_BUSY_POLL_US"), "{msg}");
}
