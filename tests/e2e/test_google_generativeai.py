"""The legacy google-generativeai SDK (REST transport) against the gateway."""

from __future__ import annotations

import warnings

import pytest
from google.api_core import exceptions as core_exceptions

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # it announces its own deprecation
    import google.generativeai as genai

import support

NO_RETRY = {"timeout": support.HTTP_TIMEOUT, "retry": None}


def configure(base_url: str, api_key: str) -> None:
    # configure() is process-global; every test sets it afresh.
    genai.configure(api_key=api_key, transport="rest", client_options={"api_endpoint": base_url})


def test_wrong_key_is_unauthenticated(strict_gateway: support.Gateway) -> None:
    configure(strict_gateway.url, support.WRONG_KEY)
    model = genai.GenerativeModel("gemini-1.5-flash")
    with pytest.raises(core_exceptions.GoogleAPICallError) as caught:
        model.generate_content("hi", request_options=NO_RETRY)
    error = caught.value
    assert error.code == 401, repr(error)
    assert isinstance(error, core_exceptions.Unauthorized), repr(error)
    body = error.response.json()
    assert body["error"]["code"] == 401 and body["error"]["status"] == "UNAUTHENTICATED", body
    assert body["error"]["message"] in error.message, repr(error)


def test_right_key_reaches_the_gateway(strict_gateway: support.Gateway) -> None:
    configure(strict_gateway.url, support.RIGHT_KEY)
    try:
        models = list(genai.list_models(page_size=5, request_options=NO_RETRY))
    except core_exceptions.GoogleAPICallError as error:
        # Until the models endpoint lands it may answer 404/503, but in the
        # Gemini error shape.
        assert error.code not in (401, 403), f"the right key was rejected: {error!r}"
        body = error.response.json()
        assert body["error"]["code"] == error.code and isinstance(body["error"]["status"], str), body
    else:
        assert all(isinstance(model.name, str) for model in models)


def test_generate_content_over_rest(proxy: support.Gateway) -> None:
    genai.configure(api_key="unused", transport="rest", client_options={"api_endpoint": proxy.url})
    model = genai.GenerativeModel("gemini-2.5-flash")
    response = model.generate_content("ping")
    assert response.text == "Hello from gemini-2.5-flash. You said: ping"


def test_generate_content_stream_over_rest(proxy: support.Gateway) -> None:
    genai.configure(api_key="unused", transport="rest", client_options={"api_endpoint": proxy.url})
    model = genai.GenerativeModel("gemini-2.5-flash")
    chunks = list(model.generate_content("stream", stream=True))
    assert "".join(c.text for c in chunks) == "Hello from gemini-2.5-flash. You said: stream"
