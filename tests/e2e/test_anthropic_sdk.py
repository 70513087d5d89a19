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
