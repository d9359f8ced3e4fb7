"""Background processes: pid files, liveness, spawning, stopping, log tails, locks."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .config import StackError

# Popen objects of children spawned by this Python process. Kept so that exited
# children get reaped (a zombie still passes `kill(pid, 0)`) and so that a
# start-up failure can report the exit code.
_children: dict[int, subprocess.Popen[bytes]] = {}

# spawn() writes this line before each start, so error reports can skip the output
# of earlier runs that share the (appended) log file.
SPAWN_MARKER = "===== koppel_localstack"


def require_tool(name: str, purpose: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(
            f"`{name}` is not on PATH; it is needed to {purpose}. "
            "Install it (see deploy/local/README.md) and try again."
        )
    return path


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        pid = int(text.split()[0])
    except (ValueError, IndexError):
        return None
    return pid if pid > 0 else None


def exit_code(pid: int) -> int | None:
    """Exit code of a child this process spawned, once it has exited."""
    child = _children.get(pid)
    return None if child is None else child.poll()


def is_alive(pid: int) -> bool:
    if pid in _children and _children[pid].poll() is not None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    state = _proc_state(pid)
    if state in {"Z", "X"}:
        # Our own exited child not yet reaped: reap it so it disappears.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (2nd field) may contain spaces/parens; the state follows the last ')'.
    rest = stat.rsplit(")", 1)[-1].split()
    return rest[0] if rest else None


def cmdline(pid: int) -> str | None:
    """The process's command line, or None where /proc is not available."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def running_pid(pid_file: Path, marker: str) -> int | None:
    """Pid from `pid_file` if that process is alive and is really ours.

    The marker (a path or address unique to this stack) guards against pid reuse
    after a reboot or crash: a recycled pid belongs to an unrelated program.
    """
    pid = read_pid(pid_file)
    if pid is None or not is_alive(pid):
        return None
    line = cmdline(pid)
    if line is not None and marker not in line:
        return None
    return pid


def spawn(
    cmd: Sequence[str],
    *,
    log_file: Path,
    pid_file: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> int:
    """Start `cmd` detached from this process (own session), output appended to `log_file`."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    stamp_log(log_file, cmd)
    with log_file.open("ab") as log:
        # start_new_session: Ctrl-C in the terminal or the end of a pytest run
        # must not take the servers down; only stop() does.
        child = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _children[child.pid] = child
    tmp = pid_file.with_suffix(pid_file.suffix + ".tmp")
    tmp.write_text(f"{child.pid}\n")
    tmp.replace(pid_file)
    return child.pid


def stamp_log(log_file: Path, cmd: Sequence[str]) -> None:
    """Append the spawn marker line to a log the new process will (also) write to."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with log_file.open("ab") as log:
        log.write(f"\n{SPAWN_MARKER} {stamp}: {' '.join(cmd)}\n".encode())


def send_term(pid: int) -> None:
    _signal(pid, signal.SIGTERM)


def terminate(pid: int, timeout: float) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL. Signals the whole session group."""
    _signal(pid, signal.SIGTERM)
    if _wait_dead(pid, timeout):
        return
    _signal(pid, signal.SIGKILL)
    _wait_dead(pid, 10.0)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        # spawn() made the child a session (and group) leader; signalling the group
        # also reaches anything it forked.
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            _children.pop(pid, None)
            return True
        time.sleep(0.1)
    return not is_alive(pid)


def tail(path: Path, lines: int = 30) -> str:
    """Last `lines` lines of a log file, read from the end so big logs stay cheap."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read()
    except OSError:
        return f"(no log at {path})"
    text = data.decode(errors="replace").rstrip("\n")
    if not text:
        return f"({path} is empty)"
    return "\n".join(text.splitlines()[-lines:])


def since_last_spawn(text: str) -> str:
    """Cut a log excerpt to the output of the most recent spawn, marker line included."""
    index = text.rfind(SPAWN_MARKER)
    return text if index < 0 else text[index:]


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (bind test, not connect).

    SO_REUSEADDR matches what Kafka and Go set, so a port left in TIME_WAIT by our
    own previous run counts as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def accepts_connections(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Exclusive advisory lock so concurrent start()/stop()/builds do not race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StackError(
                        f"timed out after {timeout:.0f}s waiting for another process "
                        f"holding {path} ({what})"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
