"""Codex CLI (`codex exec`) against the gateway, as a custom Responses-API provider.

Observed with 0.169.0: it sends POST <base_url>/responses (stream: true,
Authorization: Bearer <env_key>, accept: text/event-stream) and no models call;
with `--json` it prints JSONL events on stdout. By default it retries a 401
five times (~6 s, whatever x-should-retry says); the provider's
request_max_retries/stream_max_retries turn that off.
"""

from __future__ import annotations

from typing import Callable

import support

RunCli = Callable[..., support.CliResult]


def write_config(cli_home: support.CliHome, base_url: str) -> str:
    codex_home = cli_home.root / "codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    config = {
        "model": "gpt-5-codex",
        "model_provider": "uplink",
        "model_providers": {
            "uplink": {
                "name": "Uplink",
                "base_url": base_url,
                "env_key": "UPLINK_KEY",
                "wire_api": "responses",
                "request_max_retries": 0,
                "stream_max_retries": 0,
            }
        },
    }
    (codex_home / "config.toml").write_text(support.to_toml(config), encoding="utf-8")
    return str(codex_home)


def test_wrong_key_fails_with_401(
    strict_gateway: support.Gateway, cli_home: support.CliHome, run_cli: RunCli
) -> None:
    env = {
        "CODEX_HOME": write_config(cli_home, f"{strict_gateway.url}/v1"),
        "UPLINK_KEY": support.WRONG_KEY,
    }
    result = run_cli(["codex", "exec", "--skip-git-repo-check", "--json", "hi"], env, timeout=60)
    assert result.returncode == 1, result.describe()
    events = support.json_lines(result.stdout)
    failed = [event for event in events if event.get("type") == "turn.failed"]
    assert len(failed) == 1, result.describe()
    message = failed[0]["error"]["message"]
    # e.g. "unexpected status 401 Unauthorized: <message>, url: <gw>/v1/responses"
    assert "401 Unauthorized" in message, message
    assert f"{strict_gateway.url}/v1/responses" in message, message
    errors = [event for event in events if event.get("type") == "error"]
    assert [e["message"] for e in errors] == [message], "expected exactly one attempt (retries are off)"
