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
