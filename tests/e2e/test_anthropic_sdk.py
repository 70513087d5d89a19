"""The official Anthropic Python SDK against the gateway (base URL <gateway>, no /v1)."""

from __future__ import annotations

import anthropic
import pytest

import support


def client(base_url: str, api_key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=support.HTTP_TIMEOUT)


def test_wrong_key_is_an_authentication_error(strict_gateway: support.Gateway) -> None:
    sdk = client(strict_gateway.url, support.WRONG_KEY)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        sdk.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
        )
    error = caught.value
    assert error.status_code == 401
    body = error.body
    assert isinstance(body, dict), error.response.text
    assert body.get("type") == "error", body
    assert body["error"]["type"] == "authentication_error", body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    assert support.WRONG_KEY not in error.response.text, "the gateway echoed the client's key back in full"


def test_right_key_reaches_the_gateway(strict_gateway: support.Gateway) -> None:
    sdk = client(strict_gateway.url, support.RIGHT_KEY)
    try:
        page = sdk.models.list()
    except anthropic.APIStatusError as error:
        # Until the models endpoint lands it may answer 404/503, but in the
        # Anthropic error shape.
        assert error.status_code not in (401, 403), f"the right key was rejected: {error.body}"
        body = error.body
        assert isinstance(body, dict) and body.get("type") == "error", error.response.text
        assert isinstance(body["error"].get("type"), str), body
    else:
        assert all(isinstance(model.id, str) for model in page.data)


# --------------------------------------------------------------------------
# Messages through the gateway to the fake Cloud Code upstream
# --------------------------------------------------------------------------

MODEL = "claude-sonnet-4-5"


def test_messages_create(proxy: support.Gateway) -> None:
    message = client(proxy.url, "sk-unused").messages.create(
        model=MODEL,
        max_tokens=256,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "ping"}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text"
    assert message.content[0].text == f"Hello from {MODEL}. You said: ping"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_messages_create_stream(proxy: support.Gateway) -> None:
    stream = client(proxy.url, "sk-unused").messages.create(
        model=MODEL, max_tokens=256, messages=[{"role": "user", "content": "stream"}], stream=True
    )
    kinds = []
    text = ""
    for event in stream:
        kinds.append(event.type)
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds
    assert text == f"Hello from {MODEL}. You said: stream"


def test_messages_stream_helper(proxy: support.Gateway) -> None:
    with client(proxy.url, "sk-unused").messages.stream(
        model=MODEL, max_tokens=256, messages=[{"role": "user", "content": "helper"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == f"Hello from {MODEL}. You said: helper"
    assert final.stop_reason == "end_turn"


def test_tool_round_trip(proxy: support.Gateway, fake_upstream: support.FakeUpstream) -> None:
    sdk = client(proxy.url, "sk-unused")
    tools = [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }
    ]
    fake_upstream.script([{"function_call": {"name": "get_weather", "args": {"city": "Paris"}}}])
    messages: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = sdk.messages.create(model=MODEL, max_tokens=256, tools=tools, messages=messages)
    assert first.stop_reason == "tool_use"
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.name == "get_weather" and use.input == {"city": "Paris"}
    messages += [
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18 C"}]},
    ]
    second = sdk.messages.create(model=MODEL, max_tokens=256, tools=tools, messages=messages)
    assert second.content[0].text.startswith(f"Hello from {MODEL}")


def test_thinking(proxy: support.Gateway) -> None:
    message = client(proxy.url, "sk-unused").messages.create(
        model="claude-sonnet-4-5-thinking",
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "think"}],
    )
    kinds = [b.type for b in message.content]
    assert kinds[0] == "thinking" and "text" in kinds, kinds
    assert message.content[0].signature, "the thinking block is signed"


def test_count_tokens_and_models(proxy: support.Gateway) -> None:
    sdk = client(proxy.url, "sk-unused")
    count = sdk.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "count these tokens"}])
    assert count.input_tokens > 0
    ids = [m.id for m in sdk.models.list()]
    assert MODEL in ids
