"""Codex CLI (`codex exec`) against the gateway, as a custom Responses-API provider.

Observed with 0.169.0: it sends POST <base_url>/responses (stream: true,
Authorization: Bearer <env_key>, accept: text/event-stream) and no models call;
with `--json` it prints JSONL events on stdout. By default it retries a 401
five times (~6 s, whatever x-should-retry says); the provider's
request_max_retries/stream_max_retries turn that off.
"""

from __future__ import annotations

import json
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


# --------------------------------------------------------------------------
# Sessions through the gateway to the fake Cloud Code upstream
# --------------------------------------------------------------------------


def codex_run(proxy: support.Gateway, cli_home: support.CliHome, run_cli: RunCli, prompt: str) -> tuple[support.CliResult, list]:
    env = {"CODEX_HOME": write_config(cli_home, f"{proxy.url}/v1"), "UPLINK_KEY": "sk-unused"}
    result = run_cli(["codex", "exec", "--skip-git-repo-check", "--json", prompt], env, timeout=180)
    return result, support.json_lines(result.stdout)


def test_a_plain_answer(proxy: support.Gateway, cli_home: support.CliHome, run_cli: RunCli) -> None:
    result, events = codex_run(proxy, cli_home, run_cli, "say hi")
    assert result.returncode == 0, result.describe()
    messages = [e["item"]["text"] for e in events if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"]
    assert len(messages) == 1 and messages[0].startswith("Hello from "), result.describe()
    assert messages[0].rstrip().endswith("say hi"), messages
    assert [e["type"] for e in events if e["type"].startswith("turn.")] == ["turn.started", "turn.completed"]


def test_a_session_where_it_runs_a_shell_command(
    proxy: support.Gateway, fake_upstream: support.FakeUpstream, cli_home: support.CliHome, run_cli: RunCli
) -> None:
    fake_upstream.script([{"function_call": {"name": "exec_command", "args": {"cmd": "echo uplink-tool-ok"}}}])
    result, events = codex_run(proxy, cli_home, run_cli, "run the marker")
    assert result.returncode == 0, result.describe()
    commands = [e["item"] for e in events if e.get("type") == "item.completed" and e["item"].get("type") == "command_execution"]
    assert commands and "uplink-tool-ok" in commands[0]["aggregated_output"], result.describe()
    outputs = [
        part["functionResponse"]
        for r in fake_upstream.generate_requests()
        for content in r["body"]["request"]["contents"]
        for part in content["parts"]
        if "functionResponse" in part
    ]
    assert any("uplink-tool-ok" in json.dumps(o["response"]) for o in outputs), outputs
    assert events[-1]["type"] == "turn.completed", result.describe()
