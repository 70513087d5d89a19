"""The official OpenAI Python SDK against the gateway (base URL <gateway>/v1)."""

from __future__ import annotations

import re

import openai
import pytest

import support


def client(base_url: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=support.HTTP_TIMEOUT)


def test_wrong_key_is_an_authentication_error(strict_gateway: support.Gateway) -> None:
    sdk = client(f"{strict_gateway.url}/v1", support.WRONG_KEY)
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    error = caught.value
    assert error.status_code == 401
    # The SDK unwraps {"error": {...}} into .body, .code and .type.
    assert error.code == "invalid_api_key", error.body
    assert error.type == "invalid_request_error", error.body
    assert isinstance(error.body, dict) and error.body.get("message"), error.body
    assert support.WRONG_KEY not in error.response.text, "the gateway echoed the client's key back in full"
    raw = error.response.json()
    assert raw["error"]["code"] == "invalid_api_key" and raw["error"]["type"] == "invalid_request_error", raw


def test_right_key_reaches_the_gateway(strict_gateway: support.Gateway) -> None:
    sdk = client(f"{strict_gateway.url}/v1", support.RIGHT_KEY)
    try:
        models = sdk.models.list()
    except openai.APIStatusError as error:
        # Until the models endpoint lands it may answer 404/503, but in the
        # OpenAI error shape, which the SDK parses into a dict.
        assert error.status_code not in (401, 403), f"the right key was rejected: {error.body}"
        assert isinstance(error.body, dict) and isinstance(error.body.get("message"), str), error.response.text
    else:
        assert all(isinstance(model.id, str) for model in models.data)


def test_unknown_path_names_the_right_base_url(gateway_url: str) -> None:
    # A common misconfiguration: base URL ending in /v1 plus a path with /v1.
    sdk = client(f"{gateway_url}/v1/v1", "sk-any")
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    error = caught.value
    assert error.status_code == 404
    assert isinstance(error.body, dict), error.response.text
    message = error.body.get("message", "")
    # The base URL the user should configure, not the one they used.
    assert re.search(re.escape(f"{gateway_url}/v1") + r"(?!/v1)", message), message


# --------------------------------------------------------------------------
# Chat Completions through the gateway to the fake Cloud Code upstream
# --------------------------------------------------------------------------

MODEL = "gemini-2.5-flash"


def proxied(proxy: support.Gateway) -> openai.OpenAI:
    return client(f"{proxy.url}/v1", "sk-unused-auth-off")


def test_chat_completion(proxy: support.Gateway) -> None:
    completion = proxied(proxy).chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "ping"}],
    )
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    assert completion.choices[0].message.content == f"Hello from {MODEL}. You said: ping"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_chat_completion_stream_with_usage(proxy: support.Gateway) -> None:
    stream = proxied(proxy).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"Hello from {MODEL}. You said: stream please"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_chat_completions_stream_helper(proxy: support.Gateway) -> None:
    with proxied(proxy).chat.completions.stream(
        model=MODEL, messages=[{"role": "user", "content": "helper"}]
    ) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    assert "content.delta" in events and "content.done" in events
    assert final.choices[0].message.content == f"Hello from {MODEL}. You said: helper"


def test_parse_with_a_json_schema(proxy: support.Gateway, fake_upstream: support.FakeUpstream) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    fake_upstream.script([{"text": '{"name": "Paris", "population": 2100000}'}])
    completion = proxied(proxy).chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "A city?"}], response_format=City
    )
    parsed = completion.choices[0].message.parsed
    assert parsed == City(name="Paris", population=2100000)
    sent = fake_upstream.generate_requests()[-1]["body"]["request"]["generationConfig"]
    assert sent["responseMimeType"] == "application/json", sent
    assert "responseSchema" in sent or "responseJsonSchema" in sent, sent


def test_tool_round_trip(proxy: support.Gateway, fake_upstream: support.FakeUpstream) -> None:
    sdk = proxied(proxy)
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
    fake_upstream.script([{"function_call": {"name": "get_weather", "args": {"city": "Paris"}}}])
    messages: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = sdk.chat.completions.create(model=MODEL, messages=messages, tools=tools)
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert call.function.arguments.replace(" ", "") == '{"city":"Paris"}'

    messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "18 C"}]
    second = sdk.chat.completions.create(model=MODEL, messages=messages, tools=tools)
    assert second.choices[0].message.content.startswith(f"Hello from {MODEL}")


def test_models_list(proxy: support.Gateway) -> None:
    ids = [m.id for m in proxied(proxy).models.list()]
    assert MODEL in ids and "claude-sonnet-4-5" in ids


# --------------------------------------------------------------------------
# The Responses API through the gateway
# --------------------------------------------------------------------------


def test_responses_create(proxy: support.Gateway) -> None:
    response = proxied(proxy).responses.create(model=MODEL, instructions="Be brief.", input="ping")
    assert response.status == "completed"
    assert response.output_text == f"Hello from {MODEL}. You said: ping"
    assert response.usage is not None and response.usage.input_tokens > 0


def test_responses_create_stream(proxy: support.Gateway) -> None:
    events = list(proxied(proxy).responses.create(model=MODEL, input="stream", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed", kinds
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == f"Hello from {MODEL}. You said: stream"


def test_responses_stream_helper(proxy: support.Gateway) -> None:
    with proxied(proxy).responses.stream(model=MODEL, input="helper") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.output_text == f"Hello from {MODEL}. You said: helper"


def test_responses_function_tool_round_trip(proxy: support.Gateway, fake_upstream: support.FakeUpstream) -> None:
    sdk = proxied(proxy)
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }
    ]
    fake_upstream.script([{"function_call": {"name": "get_weather", "args": {"city": "Paris"}}}])
    first = sdk.responses.create(model=MODEL, input="Weather in Paris?", tools=tools)
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "get_weather"
    second = sdk.responses.create(
        model=MODEL,
        tools=tools,
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "18 C"},
        ],
    )
    assert second.output_text.startswith(f"Hello from {MODEL}")


def test_responses_structured_output(proxy: support.Gateway, fake_upstream: support.FakeUpstream) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    fake_upstream.script([{"text": '{"name": "Rome", "population": 2800000}'}])
    response = proxied(proxy).responses.parse(model=MODEL, input="A city?", text_format=City)
    assert response.output_parsed == City(name="Rome", population=2800000)
