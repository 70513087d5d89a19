"""Gemini CLI (`gemini -p`) against the gateway, as a Gemini API endpoint.

Observed with 0.61.0: with the gemini-api-key auth type and
GOOGLE_GEMINI_BASE_URL it first asks a flash-lite model to route the prompt
(POST /v1beta/models/<lite>:generateContent), then sends the turn (POST
/v1beta/models/<model>:streamGenerateContent?alt=sse), both with
x-goog-api-key. It does not retry a 401. With --output-format json it prints
the error as a JSON object on stderr ({"error": {"code": 401, ...}}) and
exits with the status code truncated to a byte: 401 % 256 == 145.
"""

from __future__ import annotations

import json
from typing import Callable

import support

RunCli = Callable[..., support.CliResult]


def test_wrong_key_fails_with_401(
    strict_gateway: support.Gateway, cli_home: support.CliHome, run_cli: RunCli
) -> None:
    settings = cli_home.home / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    # Without a selected auth type it stops with "Invalid auth method selected." (exit 41).
    settings.write_text(json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}}), encoding="utf-8")
    env = {
        "GOOGLE_GEMINI_BASE_URL": strict_gateway.url,
        "GEMINI_API_KEY": support.WRONG_KEY,
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    result = run_cli(["gemini", "-p", "hi", "--output-format", "json"], env, timeout=90)
    assert result.returncode == 401 % 256, result.describe()
    report = support.last_json_object(result.stderr)
    error = report["error"]
    assert error["code"] == 401, report
    # The message is the gateway's whole Gemini-shaped body, verbatim.
    body = json.loads(error["message"])
    assert body["error"]["code"] == 401 and body["error"]["status"] == "UNAUTHENTICATED", body


def test_prompt_through_the_gateway(
    proxy: support.Gateway, fake_upstream: support.FakeUpstream, cli_home: support.CliHome, run_cli: RunCli
) -> None:
    settings = cli_home.home / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}}), encoding="utf-8")
    env = {
        "GOOGLE_GEMINI_BASE_URL": proxy.url,
        "GEMINI_API_KEY": "unused-auth-off",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    result = run_cli(["gemini", "-p", "say hello", "--output-format", "json"], env, timeout=120)
    assert result.returncode == 0, result.describe()
    report = support.last_json_object(result.stdout)
    assert "Hello from" in report["response"], report
    # The CLI puts its session context before the prompt; the answer echoes both.
    assert report["response"].rstrip().endswith("say hello"), report
    # Its model names (e.g. gemini-3.1-pro-preview) were mapped to served ones.
    served = {r["body"]["model"] for r in fake_upstream.generate_requests()}
    assert served and served <= {"gemini-2.5-flash-lite", "gemini-3-flash", "gemini-3-pro-preview", "gemini-2.5-flash", "gemini-2.5-pro"}, served
