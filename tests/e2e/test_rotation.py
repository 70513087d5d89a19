"""Real clients keep working when two of three accounts have exhausted their
quota: the gateway fails over before the client sees a byte."""

from __future__ import annotations

import json
from typing import Callable

import anthropic
import openai
from google import genai
from google.genai import types

import support

RunCli = Callable[..., support.CliResult]


def exhausted_attempts(fake: support.FakeUpstream) -> int:
    return sum(1 for r in fake.generate_requests() if r.get("status") == 429)


def test_sdks_fail_over_to_the_healthy_account(crowded_proxy: support.Gateway, fake_upstream: support.FakeUpstream) -> None:
    oai = openai.OpenAI(base_url=f"{crowded_proxy.url}/v1", api_key="sk-unused", max_retries=0)
    for _ in range(2):
        completion = oai.chat.completions.create(model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}])
        assert completion.choices[0].message.content.startswith("Hello from")

    claude = anthropic.Anthropic(base_url=crowded_proxy.url, api_key="sk-unused", max_retries=0)
    with claude.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as s:
        assert "".join(s.text_stream).startswith("Hello from")

    gem = genai.Client(api_key="unused", http_options=types.HttpOptions(base_url=crowded_proxy.url, api_version="v1beta"))
    assert gem.models.generate_content(model="gemini-2.5-pro", contents="hi").text.startswith("Hello from")

    assert exhausted_attempts(fake_upstream) >= 1, "the exhausted accounts were tried first"
    assert all(
        r["body"]["project"] == "fake-project-1"
        for r in fake_upstream.generate_requests()
        if r.get("status") == 200
    ), "only the healthy account answered"


def test_claude_code_fails_over(crowded_proxy: support.Gateway, fake_upstream: support.FakeUpstream, run_cli: RunCli) -> None:
    env = {
        "ANTHROPIC_BASE_URL": crowded_proxy.url,
        "ANTHROPIC_API_KEY": "sk-unused",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    result = run_cli(["claude", "-p", "hi", "--output-format", "json"], env, timeout=180)
    assert result.returncode == 0, result.describe()
    report = json.loads(result.stdout)
    assert report["is_error"] is False and report["result"].startswith("Hello from"), report
    assert exhausted_attempts(fake_upstream) >= 1
