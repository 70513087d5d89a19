"""Shared helpers for the end-to-end tests: processes, gateways, CLI runs.

Nothing here uses a fixed port or sleeps to synchronise: servers are started on
port 0 and report their address on a stream we read with a deadline; every
subprocess gets stdin from /dev/null and a timeout.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Sequence

import requests as http

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent

STARTUP_TIMEOUT = 30.0  # seconds for a server to report its address
SHUTDOWN_TIMEOUT = 15.0  # seconds for a server to exit after SIGTERM
HTTP_TIMEOUT = 30.0  # seconds for any single HTTP call made by a test
CLI_TIMEOUT = 120.0  # default seconds for one CLI run

# Client keys for gateways in strict auth mode.
RIGHT_KEY = "sk-uplink-e2e-right-0123456789"
WRONG_KEY = "sk-uplink-e2e-wrong-9876543210"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _path_from_env(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else default


def uplink_bin() -> Path:
    return _path_from_env("UPLINK_BIN", REPO / "target" / "debug" / "uplink")


def fake_upstream_bin() -> Path:
    return _path_from_env("FAKE_UPSTREAM_BIN", REPO / "target" / "debug" / "fake-upstream")


def node_bin_dir() -> Path:
    return _path_from_env("UPLINK_E2E_NODE_BIN", REPO / ".cache" / "e2e" / "npm" / "node_modules" / ".bin")


def artifacts_root() -> Path:
    return _path_from_env("UPLINK_E2E_ARTIFACTS", E2E_DIR / "artifacts")


def require_executable(path: Path, hint: str) -> Path:
    """Fails (never skips) when a binary is missing: a skipped e2e test cannot fail."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise AssertionError(f"{path} is missing or not executable; {hint}")
    return path


def tail(text: str, lines: int = 60) -> str:
    parts = text.splitlines()
    cut = parts[-lines:]
    prefix = f"[... {len(parts) - lines} earlier lines]\n" if len(parts) > lines else ""
    return prefix + "\n".join(cut)


# --------------------------------------------------------------------------
# Long-running processes (gateway, fake upstream)
# --------------------------------------------------------------------------


class _Drain(threading.Thread):
    """Reads one pipe to EOF into memory (and a log file) so it never fills."""

    def __init__(self, name: str, stream: IO[bytes], log: Path | None) -> None:
        super().__init__(name=name, daemon=True)
        self._stream = stream
        self._log = log
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self.eof = False

    def run(self) -> None:
        sink = self._log.open("a", encoding="utf-8") if self._log else None
        try:
            for raw in iter(self._stream.readline, b""):
                line = strip_ansi(raw.decode("utf-8", "replace")).rstrip("\r\n")
                if sink:
                    sink.write(line + "\n")
                    sink.flush()
                with self._cond:
                    self._lines.append(line)
                    self._cond.notify_all()
        finally:
            if sink:
                sink.close()
            with self._cond:
                self.eof = True
                self._cond.notify_all()

    def text(self) -> str:
        with self._cond:
            return "\n".join(self._lines)

    def lines(self) -> list[str]:
        with self._cond:
            return list(self._lines)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str] | None:
        """First match of `pattern` in a line read so far or within `timeout`;
        None on EOF or timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self._lines[seen:]:
                    found = pattern.search(line)
                    if found:
                        return found
                seen = len(self._lines)
                remaining = deadline - time.monotonic()
                if self.eof or remaining <= 0:
                    return None
                self._cond.wait(remaining)


_LIVE: set["ManagedProcess"] = set()


@atexit.register
def _kill_leftovers() -> None:
    # Servers run in their own session (a Ctrl-C does not reach them), so a
    # run that dies before fixture teardown must not leave them behind.
    for process in list(_LIVE):
        process.kill()


class ManagedProcess:
    """A server subprocess whose stdout and stderr are drained in threads."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen(
            self.argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        log = (lambda s: log_dir / f"{name}.{s}.log") if log_dir else (lambda s: None)
        self.stdout = _Drain(f"{name}-stdout", self.proc.stdout, log("stdout"))
        self.stderr = _Drain(f"{name}-stderr", self.proc.stderr, log("stderr"))
        self.stdout.start()
        self.stderr.start()
        self.returncode: int | None = None
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return f"--- {self.name} stdout ---\n{tail(self.stdout.text())}\n--- {self.name} stderr ---\n{tail(self.stderr.text())}"

    def describe(self) -> str:
        return f"{self.name} ({' '.join(self.argv)}; pid {self.proc.pid})"

    def wait_for_line(self, stream: str, pattern: re.Pattern[str], timeout: float = STARTUP_TIMEOUT) -> re.Match[str]:
        drain = self.stdout if stream == "stdout" else self.stderr
        found = drain.wait_for(pattern, timeout)
        if found:
            return found
        status = self.proc.poll()
        why = f"exited with {status}" if status is not None else f"no such line within {timeout:.0f}s"
        self.kill()
        raise AssertionError(f"{self.describe()} did not print /{pattern.pattern}/ on {stream}: {why}\n{self.output()}")

    def stop(self, timeout: float = SHUTDOWN_TIMEOUT) -> int:
        """SIGTERM, then wait; SIGKILL and raise if it does not exit in time."""
        if self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.describe()} did not exit within {timeout:.0f}s of SIGTERM\n{self.output()}"
            ) from None
        self._join()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the process group we created (the server and its children)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.returncode = self.proc.wait()
        self._join()

    def _join(self) -> None:
        _LIVE.discard(self)
        self.stdout.join(5)
        self.stderr.join(5)


def clean_env(extra: Mapping[str, str] | None = None, *, home: Path | None = None) -> dict[str, str]:
    """A minimal environment: nothing of the developer's (API keys, UPLINK_*,
    proxies, RUST_LOG) leaks into the process under test."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    if home is not None:
        env.update(home_env(home))
    if extra:
        env.update(extra)
    return env


def home_env(home: Path) -> dict[str, str]:
    """HOME, XDG base dirs and TMPDIR, all inside `home` (created here)."""
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_RUNTIME_DIR": home / ".run",
        "TMPDIR": home / "tmp",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    (home / ".run").chmod(0o700)
    return {key: str(path) for key, path in dirs.items()}


# --------------------------------------------------------------------------
# The gateway
# --------------------------------------------------------------------------


def to_toml(table: Mapping[str, Any], _prefix: str = "") -> str:
    """Enough TOML for test configs: nested tables of scalars and lists."""
    scalars, tables = [], []
    for key, value in table.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            scalars.append(f"{key} = {_toml_value(value)}")
    out = "\n".join(scalars) + ("\n" if scalars else "")
    for key, value in tables:
        name = f"{_prefix}.{key}" if _prefix else key
        out += f"\n[{name}]\n" + to_toml(value, name)
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


@dataclasses.dataclass
class Gateway:
    """A running `uplink serve` on 127.0.0.1:<port>."""

    process: ManagedProcess
    url: str
    port: int
    api_key: str | None
    data_dir: Path

    def log(self) -> str:
        return self.process.stderr.text()

    def get(self, path: str, **kwargs: Any) -> http.Response:
        return http.get(self.url + path, timeout=HTTP_TIMEOUT, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> http.Response:
        return http.request(method, self.url + path, timeout=HTTP_TIMEOUT, **kwargs)

    def stop(self) -> int:
        return self.process.stop()


def start_gateway(
    workdir: Path,
    *,
    name: str = "uplink",
    env: Mapping[str, str] | None = None,
    config: str | Mapping[str, Any] | None = None,
    args: Sequence[str] = (),
    api_key: str | None = None,
    log_dir: Path | None = None,
    accounts: Sequence[Mapping[str, Any]] = (),
) -> Gateway:
    """`uplink serve --port 0 --data-dir <workdir>/data [--config ...]`, waiting
    (at most STARTUP_TIMEOUT) for 'listening on http://127.0.0.1:PORT' on stderr.
    `accounts` are imported first with `uplink accounts import`."""
    binary = require_executable(uplink_bin(), "build it with `cargo build --bins` or set UPLINK_BIN")
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if accounts:
        accounts_file = workdir / "accounts.json"
        accounts_file.write_text(json.dumps(list(accounts)), encoding="utf-8")
        imported = subprocess.run(
            [str(binary), "accounts", "import", str(accounts_file), "--data-dir", str(data_dir)],
            env=clean_env(home=workdir / "home"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if imported.returncode != 0:
            raise AssertionError(f"uplink accounts import failed ({imported.returncode}): {imported.stderr}")
    argv: list[str] = [str(binary), "serve", "--port", "0", "--data-dir", str(data_dir)]
    if config is not None:
        text = config if isinstance(config, str) else to_toml(config)
        config_path = workdir / "uplink.toml"
        config_path.write_text(text, encoding="utf-8")
        argv += ["--config", str(config_path)]
    argv += list(args)
    process_env = clean_env(home=workdir / "home")
    # Nothing UPLINK_* leaks in from the caller; UPLINK_E2E_LOG_LEVEL=debug
    # is the way to get more detail into the artifacts.
    if os.environ.get("UPLINK_E2E_LOG_LEVEL"):
        process_env["UPLINK_LOG_LEVEL"] = os.environ["UPLINK_E2E_LOG_LEVEL"]
    process_env.update(env or {})
    process = ManagedProcess(name, argv, process_env, cwd=workdir, log_dir=log_dir)
    found = process.wait_for_line("stderr", LISTENING)
    return Gateway(process=process, url=found.group(1), port=int(found.group(2)), api_key=api_key, data_dir=data_dir)


# --------------------------------------------------------------------------
# The fake upstream (Google OAuth + Cloud Code)
# --------------------------------------------------------------------------

FAKE_LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:(\d+))$")


class FakeUpstream:
    """A running `fake-upstream --port 0`. Scripting helpers over its
    /__fake/... control API are added as that API lands."""

    def __init__(self, workdir: Path, log_dir: Path | None = None) -> None:
        binary = require_executable(fake_upstream_bin(), "build it with `cargo build --bins` or set FAKE_UPSTREAM_BIN")
        workdir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            "fake-upstream",
            [str(binary), "--port", "0"],
            clean_env(home=workdir / "home"),
            cwd=workdir,
            log_dir=log_dir,
        )
        found = self.process.wait_for_line("stdout", FAKE_LISTENING)
        first = self.process.stdout.lines()[0]
        if first != found.group(0):
            self.process.kill()
            raise AssertionError(f"fake-upstream's first stdout line must be the address, got {first!r}")
        self.url: str = found.group(1)
        self.port = int(found.group(2))

    # The binary's default account (see crates/fake-upstream).
    DEFAULT_ACCOUNT = {"refresh_token": "fake-refresh-token-1", "email": "alice@example.com"}

    def gateway_config(self) -> dict[str, Any]:
        """The gateway settings that point it at this fake."""
        return {
            "cloudcode": {"endpoints": [f"{self.url}/v1internal"]},
            "oauth": {
                "token_url": f"{self.url}/token",
                "userinfo_url": f"{self.url}/oauth2/v2/userinfo",
                "client_id": "e2e-client",
                "client_secret": "e2e-secret",
            },
        }

    def script(self, behaviors: list[Any], email: str = "alice@example.com", model: str | None = None) -> None:
        """Queue behaviours for the account's next generate calls (POST /__fake/script),
        e.g. [{"text": "..."}], [{"function_call": {"name": "f", "args": {...}}}], ["ok"]."""
        body: dict[str, Any] = {"email": email, "behaviors": behaviors}
        if model is not None:
            body["model"] = model
        response = http.post(f"{self.url}/__fake/script", json=body, timeout=HTTP_TIMEOUT)
        response.raise_for_status()

    def add_account(self, refresh_token: str, email: str, project: str) -> None:
        response = http.post(
            f"{self.url}/__fake/accounts",
            json={"refresh_token": refresh_token, "email": email, "project": project},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()

    def set_default_behavior(self, email: str, behavior: Any) -> None:
        response = http.post(
            f"{self.url}/__fake/default_behavior", json={"email": email, "behavior": behavior}, timeout=HTTP_TIMEOUT
        )
        response.raise_for_status()

    def add_api_key(self, provider: str, key: str) -> None:
        """Register an API key (labelled by itself) with one of the fake's providers."""
        response = http.post(
            f"{self.url}/__fake/api_keys", json={"provider": provider, "key": key, "label": key}, timeout=HTTP_TIMEOUT
        )
        response.raise_for_status()

    def provider_base_url(self, provider: str) -> str:
        return {"anthropic": f"{self.url}/anthropic", "openai": f"{self.url}/openai/v1", "gemini": f"{self.url}/gemini"}[provider]

    def generate_requests(self) -> list[dict[str, Any]]:
        """The generate calls received, oldest first."""
        return [r for r in self.requests() if "enerateContent" in (r.get("path") or "")]

    def requests(self) -> list[dict[str, Any]]:
        """Every request the fake has received (GET /__fake/requests)."""
        response = http.get(f"{self.url}/__fake/requests", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        body = response.json()
        return body["requests"] if isinstance(body, dict) else body

    def stop(self) -> int:
        return self.process.stop()


# --------------------------------------------------------------------------
# CLI runs
# --------------------------------------------------------------------------


@dataclasses.dataclass
class CliHome:
    """A private HOME (+ XDG dirs, TMPDIR) and an empty working directory."""

    root: Path
    home: Path
    workdir: Path

    @classmethod
    def create(cls, root: Path) -> CliHome:
        home = root / "home"
        workdir = root / "work"
        workdir.mkdir(parents=True, exist_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        return cls(root=root, home=home, workdir=workdir)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Minimal env for a CLI: the pinned CLIs and node first on PATH,
        private HOME/XDG/TMPDIR, nothing inherited that could carry a key."""
        path = [str(node_bin_dir())]
        node = shutil.which("node")
        if node:
            path.append(str(Path(node).resolve().parent))
        path += ["/usr/local/bin", "/usr/bin", "/bin"]
        env = clean_env(home=self.home)
        env["PATH"] = os.pathsep.join(dict.fromkeys(path))
        if extra:
            env.update(extra)
        return env


@dataclasses.dataclass
class CliResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\nexit {self.returncode} after {self.seconds:.1f}s\n"
            f"--- stdout ---\n{tail(self.stdout)}\n--- stderr ---\n{tail(self.stderr)}"
        )


class CliTimeout(AssertionError):
    def __init__(self, message: str, result: CliResult) -> None:
        super().__init__(message)
        self.result = result


def resolve_cli(name: str) -> Path:
    return require_executable(node_bin_dir() / name, "install the e2e clients with tests/e2e/run (or set UPLINK_E2E_NODE_BIN)")


def run_cli(
    args: Sequence[str],
    env: Mapping[str, str],
    timeout: float = CLI_TIMEOUT,
    *,
    cwd: Path,
    log_dir: Path | None = None,
) -> CliResult:
    """Runs a CLI with stdin from /dev/null in its own process group; returns
    exit code + output. On timeout the whole group is killed and CliTimeout
    (an AssertionError carrying the partial output) is raised."""
    argv = [str(a) for a in args]
    binary = argv[0] if os.sep in argv[0] else str(resolve_cli(argv[0]))
    argv[0] = binary
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Either the CLI hangs, or it exited and a child it left behind still
        # holds the pipes; both end here.
        timed_out = proc.poll() is None
        _killpg(proc.pid)
        out, err = proc.communicate()
    finally:
        _killpg(proc.pid)  # stragglers in the group we created
    result = CliResult(
        argv=argv,
        returncode=proc.returncode,
        stdout=strip_ansi(out.decode("utf-8", "replace")),
        stderr=strip_ansi(err.decode("utf-8", "replace")),
        seconds=time.monotonic() - started,
    )
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        stem = Path(argv[0]).name
        n = len(list(log_dir.glob(f"{stem}-*.log"))) + 1
        (log_dir / f"{stem}-{n}.log").write_text(
            f"$ {' '.join(argv)}\nexit {result.returncode} after {result.seconds:.1f}s"
            f"{' (timed out)' if timed_out else ''}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n",
            encoding="utf-8",
        )
    if timed_out:
        raise CliTimeout(f"{Path(argv[0]).name} did not finish within {timeout:.0f}s\n{result.describe()}", result)
    return result


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------
# Parsing CLI output
# --------------------------------------------------------------------------


def json_lines(text: str) -> list[Any]:
    """Every line of `text` that parses as a JSON object (JSONL output)."""
    events = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def last_json_object(text: str) -> Any:
    """The last top-level JSON object in `text` (single- or multi-line), which
    may follow other log output; raises AssertionError if there is none."""
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"(?m)^\{", text)]
    for start in reversed(starts):
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        return value
    raise AssertionError(f"no JSON object in output:\n{tail(text)}")


def mentions(text: str, words: Iterable[str]) -> bool:
    lowered = text.lower()
    return any(word.lower() in lowered for word in words)
