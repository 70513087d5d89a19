"""Real clients through API-key providers (the fake's Anthropic-compatible,
OpenAI-compatible and Gemini APIs), translating across protocols."""

from __future__ import annotations

import json
from typing import Callable

import anthropic
import openai
import pytest

import support

RunCli = Callable[..., support.CliResult]


@pytest.fixture
def provider_gateway(gateway, fake_upstream: support.FakeUpstream) -> Callable[..., support.Gateway]:
    """A gateway with no Cloud Code account and one provider of `kind`."""

    def start(kind: str, models: list[str], mapping: dict[str, str] | None = None) -> support.Gateway:
        fake_upstream.add_api_key(kind, f"{kind}-key-1")
        section = [
            "[[providers]]",
            f'id = "{kind}"',
            f'kind = "{kind}"',
            f"base_url = {json.dumps(fake_upstream.provider_base_url(kind))}",
            f'api_keys = ["{kind}-key-1"]',
            f"models = {json.dumps(models)}",
        ]
        if mapping:
            pairs = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in mapping.items())
            section.append(f"mapping = {{ {pairs} }}")
        config = support.to_toml(fake_upstream.gateway_config()) + "\n" + "\n".join(section) + "\n"
        return gateway(config=config)

    return start


def provider_calls(fake: support.FakeUpstream, kind: str) -> list[dict]:
    return [r for r in fake.requests() if r.get("provider") == kind and r.get("status") == 200]


def test_claude_code_through_an_anthropic_provider(
    provider_gateway, fake_upstream: support.FakeUpstream, run_cli: RunCli
) -> None:
    gw = provider_gateway("anthropic", ["claude-*"], {"claude-*": "glm-4.6"})
    env = {
        "ANTHROPIC_BASE_URL": gw.url,
        "ANTHROPIC_API_KEY": "sk-unused",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    result = run_cli(["claude", "-p", "hi", "--output-format", "json"], env, timeout=180)
    assert result.returncode == 0, result.describe()
    report = json.loads(result.stdout)
    assert report["is_error"] is False and report["result"].startswith("Hello from glm-4.6"), report
    assert provider_calls(fake_upstream, "anthropic"), "the provider answered"


def test_openai_sdk_through_a_gemini_provider(provider_gateway, fake_upstream: support.FakeUpstream) -> None:
    gw = provider_gateway("gemini", ["gemini-*"])
    sdk = openai.OpenAI(base_url=f"{gw.url}/v1", api_key="sk-unused", max_retries=0)
    completion = sdk.chat.completions.create(model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content == "Hello from gemini-2.5-flash. You said: hi"
    stream = sdk.chat.completions.create(model="gemini-2.5-flash", messages=[{"role": "user", "content": "yo"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).endswith("You said: yo")
    assert len(provider_calls(fake_upstream, "gemini")) == 2


def test_anthropic_sdk_through_an_openai_provider(provider_gateway, fake_upstream: support.FakeUpstream) -> None:
    gw = provider_gateway("openai", ["claude-*"], {"claude-*": "qwen3"})
    sdk = anthropic.Anthropic(base_url=gw.url, api_key="sk-unused", max_retries=0)
    message = sdk.messages.create(model="claude-sonnet-4-5", max_tokens=128, messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == "Hello from qwen3. You said: hi"
    with sdk.messages.stream(model="claude-sonnet-4-5", max_tokens=128, messages=[{"role": "user", "content": "yo"}]) as s:
        assert "".join(s.text_stream) == "Hello from qwen3. You said: yo"
    assert len(provider_calls(fake_upstream, "openai")) == 2
