"""Fixtures for the end-to-end tests: gateways, the fake upstream, CLI homes.

The contract with the binaries (see support.py):
- `uplink serve --port 0 --data-dir DIR [--config FILE]` (+ UPLINK_* env) logs
  a line containing `listening on http://127.0.0.1:PORT` to stderr, and exits 0
  within 15 s of SIGTERM;
- `fake-upstream --port 0` prints exactly `listening on http://127.0.0.1:PORT`
  as its first stdout line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import pytest

import support

RIGHT_KEY = support.RIGHT_KEY


ARTIFACTS_MARKER = ".uplink-e2e-artifacts"


def pytest_sessionstart(session: pytest.Session) -> None:
    # Start every run with an empty artifacts directory, but only delete one
    # this suite created (it carries the marker file).
    root = support.artifacts_root()
    if (root / ARTIFACTS_MARKER).is_file():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / ARTIFACTS_MARKER).write_text("logs of the last tests/e2e run; deleted by the next one\n", encoding="utf-8")


def pytest_collection_finish(session: pytest.Session) -> None:
    # An e2e run that selects nothing must fail loudly, not pass as "exit 5".
    if not session.items:
        raise pytest.UsageError(
            "no end-to-end tests were selected; check the -k expression or paths given to tests/e2e/run"
        )


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's directory for logs (gateway stderr, CLI output), kept after the run."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("/")[-1]).strip("_")
    path = support.artifacts_root() / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


GatewayFactory = Callable[..., support.Gateway]


@pytest.fixture
def gateway(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[GatewayFactory]:
    """Factory: `gateway(auth_mode="strict", api_key=RIGHT_KEY, env={...},
    config={...} | "toml text", args=[...])` starts a gateway and returns it.

    auth_mode/api_key become UPLINK_AUTH_MODE/UPLINK_API_KEY (auth_mode=None
    leaves the gateway's default). Every gateway started is stopped with
    SIGTERM at teardown and must exit 0 within 15 s.
    """
    started: list[support.Gateway] = []

    def start(
        *,
        auth_mode: str | None = "off",
        api_key: str | None = None,
        env: Mapping[str, str] | None = None,
        config: str | Mapping[str, Any] | None = None,
        args: Sequence[str] = (),
        accounts: Sequence[Mapping[str, Any]] = (),
    ) -> support.Gateway:
        process_env: dict[str, str] = {}
        if auth_mode is not None:
            process_env["UPLINK_AUTH_MODE"] = auth_mode
        if api_key is not None:
            process_env["UPLINK_API_KEY"] = api_key
        process_env.update(env or {})
        gw = support.start_gateway(
            tmp_path_factory.mktemp("gateway"),
            name=f"uplink-{len(started) + 1}",
            env=process_env,
            config=config,
            args=args,
            api_key=api_key,
            log_dir=artifacts,
            accounts=accounts,
        )
        started.append(gw)
        return gw

    yield start

    problems = []
    for gw in reversed(started):
        try:
            code = gw.stop()
        except AssertionError as exc:
            problems.append(str(exc))
            continue
        if code != 0:
            problems.append(
                f"{gw.process.describe()} exited with {code} after SIGTERM, expected 0\n{gw.process.output()}"
            )
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def gateway_url(gateway: GatewayFactory) -> str:
    """Base URL (no trailing slash, no /v1) of a gateway with auth off."""
    return gateway().url


@pytest.fixture
def strict_gateway(gateway: GatewayFactory) -> support.Gateway:
    """A gateway in strict auth mode that accepts only RIGHT_KEY."""
    return gateway(auth_mode="strict", api_key=RIGHT_KEY)


@pytest.fixture
def fake_upstream(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[support.FakeUpstream]:
    upstream = support.FakeUpstream(tmp_path_factory.mktemp("fake-upstream"), log_dir=artifacts)
    yield upstream
    # A test tool, not the product: it may exit 0 or die of the SIGTERM, but
    # it must not hang (stop() raises if it does).
    upstream.stop()


@pytest.fixture
def cli_home(tmp_path: Path) -> support.CliHome:
    """A private HOME (+ XDG dirs, TMPDIR) and empty working directory for one CLI."""
    return support.CliHome.create(tmp_path / "cli")


@pytest.fixture
def run_cli(cli_home: support.CliHome, artifacts: Path) -> Callable[..., support.CliResult]:
    """`run_cli(args, env, timeout=...)`: runs in cli_home.workdir with
    cli_home's environment plus `env`, logging to the test's artifacts."""

    def run(args: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = support.CLI_TIMEOUT) -> support.CliResult:
        return support.run_cli(args, cli_home.env(env), timeout, cwd=cli_home.workdir, log_dir=artifacts)

    return run


@pytest.fixture
def proxy(gateway: GatewayFactory, fake_upstream: support.FakeUpstream) -> support.Gateway:
    """A gateway (auth off) that serves from the fake upstream's default account."""
    return gateway(config=fake_upstream.gateway_config(), accounts=[support.FakeUpstream.DEFAULT_ACCOUNT])


@pytest.fixture
def crowded_proxy(gateway: GatewayFactory, fake_upstream: support.FakeUpstream) -> support.Gateway:
    """A gateway with three accounts of which two have exhausted their quota;
    an exhausted one is preferred, so every client's first attempt fails over."""
    accounts = [support.FakeUpstream.DEFAULT_ACCOUNT]
    for name in ("bob", "carol"):
        email = f"{name}@example.com"
        fake_upstream.add_account(f"rt-{name}", email, f"project-{name}")
        fake_upstream.set_default_behavior(email, {"quota_exhausted": {"reset_delay": "1h"}})
        accounts.append({"refresh_token": f"rt-{name}", "email": email})
    config = fake_upstream.gateway_config()
    config["scheduling"] = {"mode": "fixed", "preferred_account": "bob@example.com"}
    return gateway(config=config, accounts=accounts)
