"""The Google Gen AI Python SDK (google-genai) against the gateway.

Observed with 3.4.0: the default API version is v1, not v1beta, so it calls
POST /v1/models/<model>:generateContent and GET /v1/models (x-goog-api-key),
which share a prefix with the OpenAI API; both versions are tested.
"""

from __future__ import annotations

import pytest
from google import genai
from google.genai import errors, types

import support

API_VERSIONS = [pytest.param(None, id="default-v1"), pytest.param("v1beta", id="v1beta")]


def client(base_url: str, api_key: str, api_version: str | None) -> genai.Client:
    return genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(
            base_url=base_url,
            api_version=api_version,
            timeout=int(support.HTTP_TIMEOUT * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_wrong_key_is_unauthenticated(strict_gateway: support.Gateway, api_version: str | None) -> None:
    sdk = client(strict_gateway.url, support.WRONG_KEY, api_version)
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model="gemini-2.5-flash", contents="hi")
    error = caught.value
    assert error.code == 401, error.details
    assert error.status == "UNAUTHENTICATED", error.details
    assert isinstance(error.message, str) and error.message, error.details
    assert support.WRONG_KEY not in str(error.details), "the gateway echoed the client's key back in full"


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_right_key_reaches_the_gateway(strict_gateway: support.Gateway, api_version: str | None) -> None:
    sdk = client(strict_gateway.url, support.RIGHT_KEY, api_version)
    try:
        models = list(sdk.models.list(config={"page_size": 5}))
    except errors.APIError as error:
        # Until the models endpoint lands it may answer 404/503, but in the
        # Gemini error shape {"error": {"code", "message", "status"}} (on
        # /v1/models too: the SDK's x-goog-api-key says which protocol).
        assert error.code not in (401, 403), f"the right key was rejected: {error.details}"
        assert isinstance(error.status, str) and error.status, error.details
        assert isinstance(error.message, str) and error.message, error.details
    else:
        assert all(isinstance(model.name, str) for model in models)


# --------------------------------------------------------------------------
# Generation through the gateway to the fake Cloud Code upstream
# --------------------------------------------------------------------------

MODEL = "gemini-2.5-pro"


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_generate_content(proxy: support.Gateway, api_version: str | None) -> None:
    sdk = client(proxy.url, "unused", api_version)  # keep it: a collected Client closes itself
    response = sdk.models.generate_content(
        model=MODEL,
        contents="ping",
        config=types.GenerateContentConfig(system_instruction="Be brief.", temperature=0.1),
    )
    assert response.text == f"Hello from {MODEL}. You said: ping"
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata.total_token_count > 0


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_generate_content_stream(proxy: support.Gateway, api_version: str | None) -> None:
    sdk = client(proxy.url, "unused", api_version)
    chunks = list(sdk.models.generate_content_stream(model=MODEL, contents="stream"))
    assert "".join(c.text or "" for c in chunks) == f"Hello from {MODEL}. You said: stream"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_count_tokens(proxy: support.Gateway) -> None:
    sdk = client(proxy.url, "unused", "v1beta")
    result = sdk.models.count_tokens(model=MODEL, contents="count these tokens")
    assert result.total_tokens > 0


def test_function_calling_round_trip(proxy: support.Gateway, fake_upstream: support.FakeUpstream) -> None:
    sdk = client(proxy.url, "unused", "v1beta")
    tool = types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                description="Weather for a city",
                parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}, required=["city"]),
            )
        ]
    )
    config = types.GenerateContentConfig(
        tools=[tool], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
    )
    fake_upstream.script([{"function_call": {"name": "get_weather", "args": {"city": "Paris"}}}])
    question = types.Content(role="user", parts=[types.Part.from_text(text="Weather in Paris?")])
    first = sdk.models.generate_content(model=MODEL, contents=[question], config=config)
    call = first.function_calls[0]
    assert call.name == "get_weather" and call.args == {"city": "Paris"}

    answer = types.Content(
        role="user", parts=[types.Part.from_function_response(name="get_weather", response={"temp_c": 18})]
    )
    second = sdk.models.generate_content(model=MODEL, contents=[question, first.candidates[0].content, answer], config=config)
    assert second.text.startswith(f"Hello from {MODEL}")
