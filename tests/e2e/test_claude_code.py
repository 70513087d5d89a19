"""Claude Code (`claude -p`) against the gateway, as an Anthropic endpoint.

Observed with 2.1.329: it sends POST /v1/messages?beta=true with x-api-key,
anthropic-version: 2023-06-01 and a long anthropic-beta list (and, unless
CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1, an unauthenticated HEAD /api/hello
first, whose answer it ignores), and prints one JSON result object on stdout,
exit 1. It retries a 401 ten times (backoff from 0.5 s up to ~40 s: 185 s in
all) unless the response carries `x-should-retry: false` or
CLAUDE_CODE_MAX_RETRIES=0 is set.
"""

from __future__ import annotations

import json
from typing import Callable

import support

RunCli = Callable[..., support.CliResult]


def claude_env(gateway: support.Gateway, key: str) -> dict[str, str]:
    return {
        "ANTHROPIC_BASE_URL": gateway.url,
        "ANTHROPIC_API_KEY": key,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }


def assert_authentication_failure(result: support.CliResult) -> None:
    assert result.returncode == 1, result.describe()
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"stdout is not one JSON result\n{result.describe()}") from None
    assert report["type"] == "result", report
    assert report["is_error"] is True, report
    assert report["api_error_status"] == 401, report
    assert report["api_error_type"] == "authentication_error", report
    # Its own words, chosen by the gateway's message: "Invalid API key · Fix
    # external API key" when that says "Invalid API key", otherwise "Failed to
    # authenticate. API Error: 401 <the gateway's message>".
    assert support.mentions(report["result"], ["invalid api key", "failed to authenticate"]), report


def test_wrong_key_fails_with_authentication_error(strict_gateway: support.Gateway, run_cli: RunCli) -> None:
    env = claude_env(strict_gateway, support.WRONG_KEY) | {"CLAUDE_CODE_MAX_RETRIES": "0"}
    result = run_cli(["claude", "-p", "hi", "--output-format", "json"], env, timeout=60)
    assert_authentication_failure(result)


def test_wrong_key_is_not_retried(strict_gateway: support.Gateway, run_cli: RunCli) -> None:
    """Claude Code's default retry policy retries a 401 for minutes unless the
    answer says `x-should-retry: false`; a gateway that rejects a key must
    say so, as the real API does, so the user sees the error at once."""
    env = claude_env(strict_gateway, support.WRONG_KEY)
    try:
        result = run_cli(["claude", "-p", "hi", "--output-format", "json"], env, timeout=30)
    except support.CliTimeout as timeout:
        raise AssertionError(
            "Claude Code kept retrying the gateway's 401 for 30 s: "
            "the 401 must carry the header `x-should-retry: false`\n" + timeout.result.describe()
        ) from None
    assert_authentication_failure(result)


# --------------------------------------------------------------------------
# Sessions through the gateway to the fake Cloud Code upstream
# --------------------------------------------------------------------------


def generate_bodies(fake: support.FakeUpstream) -> list[dict]:
    return [r["body"] for r in fake.generate_requests() if r.get("status") == 200]


def test_prompt_with_the_default_model(proxy: support.Gateway, fake_upstream: support.FakeUpstream, run_cli: RunCli) -> None:
    result = run_cli(["claude", "-p", "hi there", "--output-format", "json"], claude_env(proxy, "sk-unused"), timeout=180)
    assert result.returncode == 0, result.describe()
    report = json.loads(result.stdout)
    assert report["is_error"] is False, report
    assert report["result"].startswith("Hello from claude-"), report
    assert report["result"].rstrip().endswith("hi there"), report
    assert all(b["model"].startswith("claude-") for b in generate_bodies(fake_upstream))


def test_haiku_and_stream_json(proxy: support.Gateway, fake_upstream: support.FakeUpstream, run_cli: RunCli) -> None:
    result = run_cli(
        ["claude", "-p", "quick one", "--model", "haiku", "--output-format", "stream-json", "--verbose"],
        claude_env(proxy, "sk-unused"),
        timeout=180,
    )
    assert result.returncode == 0, result.describe()
    events = support.json_lines(result.stdout)
    final = [e for e in events if e.get("type") == "result"]
    assert len(final) == 1 and final[0]["is_error"] is False, result.describe()
    assert final[0]["result"].startswith("Hello from claude-"), final[0]
    assistant = [e for e in events if e.get("type") == "assistant"]
    assert assistant, "stream-json shows the assistant message"


def test_a_session_where_it_runs_bash_and_gets_the_result(
    proxy: support.Gateway, fake_upstream: support.FakeUpstream, run_cli: RunCli
) -> None:
    fake_upstream.script(
        [{"function_call": {"name": "Bash", "args": {"command": "echo uplink-tool-ok", "description": "print a marker"}}}]
    )
    result = run_cli(
        ["claude", "-p", "run the marker command", "--output-format", "json", "--allowedTools", "Bash"],
        claude_env(proxy, "sk-unused"),
        timeout=180,
    )
    assert result.returncode == 0, result.describe()
    report = json.loads(result.stdout)
    assert report["is_error"] is False and report["num_turns"] >= 2, report
    responses = [
        part["functionResponse"]
        for body in generate_bodies(fake_upstream)
        for content in body["request"]["contents"]
        for part in content["parts"]
        if "functionResponse" in part
    ]
    assert any(r["name"] == "Bash" and "uplink-tool-ok" in json.dumps(r["response"]) for r in responses), responses
