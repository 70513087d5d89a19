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
