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
