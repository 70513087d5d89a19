"""The gateway's foundation: health endpoints, start-up and shutdown."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest
import requests as http

import support


def workspace_version() -> str:
    cargo = tomllib.loads((support.REPO / "Cargo.toml").read_text(encoding="utf-8"))
    return cargo["workspace"]["package"]["version"]


def test_healthz_and_health_report_ok_and_version(gateway_url: str) -> None:
    for path in ("/healthz", "/health"):
        response = http.get(gateway_url + path, timeout=support.HTTP_TIMEOUT)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("application/json"), response.headers
        body = response.json()
        assert body["status"] == "ok", body
        assert isinstance(body["version"], str) and body["version"].startswith(workspace_version()), body


def test_head_root_is_ok(gateway_url: str) -> None:
    response = http.head(gateway_url + "/", timeout=support.HTTP_TIMEOUT, allow_redirects=False)
    assert response.status_code == 200
    assert response.content == b""


def test_all_except_health_mode_exempts_only_health(gateway) -> None:
    gw = gateway(auth_mode="all_except_health", api_key=support.RIGHT_KEY)
    for path in ("/healthz", "/health"):
        response = gw.get(path)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    response = gw.get("/v1/models")
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_api_key", response.text


def test_strict_mode_protects_health_too(strict_gateway: support.Gateway) -> None:
    assert strict_gateway.get("/healthz").status_code == 401
    response = strict_gateway.get("/healthz", headers={"Authorization": f"Bearer {support.RIGHT_KEY}"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def test_bad_config_exits_64_before_listening(tmp_path) -> None:
    binary = support.require_executable(support.uplink_bin(), "build it or set UPLINK_BIN")
    env = support.clean_env({"UPLINK_AUTH_MODE": "no-such-mode"}, home=tmp_path / "home")
    try:
        done = subprocess.run(
            [str(binary), "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=support.STARTUP_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the gateway accepted UPLINK_AUTH_MODE=no-such-mode and kept running:\n{exc.stderr!r}")
    assert done.returncode == 64, f"exit {done.returncode}\n{done.stderr}"
    assert not re.search(r"listening on", done.stderr + done.stdout)
    assert "no-such-mode" in done.stderr or "auth" in done.stderr.lower(), done.stderr


def test_fake_upstream_starts_and_lists_requests(fake_upstream: support.FakeUpstream) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake_upstream.url)
    assert fake_upstream.requests() == []
