"""start / stop / status of the local stack (Kafka + FerretDB as background processes)."""

from __future__ import annotations

import concurrent.futures
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ferretdb, kafka, probes, process
from .config import Endpoints, StackConfig, StackError

Progress = Callable[[str], None]

# Quick checks (fast path of start(), status()) must not stall a CLI.
QUICK_PROBE_TIMEOUT = 3.0
# One readiness attempt; retried until the start timeout runs out.
PROBE_ATTEMPT_TIMEOUT = 15.0
LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class Part:
    """One server of the stack, as start/stop/status see it."""

    key: str
    title: str
    address: str
    host: str
    port: int
    pid_file: Path
    marker: str
    ports: tuple[tuple[str, int], ...]
    logs: tuple[Path, ...]
    quick_check: Callable[[float], None]
    ready_check: Callable[[float], None]


def parts(cfg: StackConfig) -> tuple[Part, Part]:
    eps = Endpoints.for_config(cfg)
    bootstrap, uri = eps.kafka_bootstrap, eps.mongodb_uri

    def kafka_quick(timeout: float) -> None:
        with probes.quiet_kafka_client_logs():
            probes.run_async(lambda: probes.kafka_ping(bootstrap, timeout), timeout + 2)

    def kafka_ready(timeout: float) -> None:
        with probes.quiet_kafka_client_logs():
            probes.run_async(lambda: probes.kafka_roundtrip(bootstrap, timeout), timeout + 2)

    kafka_part = Part(
        key="kafka",
        title="Kafka",
        address=bootstrap,
        host=cfg.host,
        port=cfg.kafka_port,
        pid_file=cfg.kafka_pid_file,
        marker=str(cfg.kafka_properties_file),
        ports=(
            ("KOPPEL_LOCAL_KAFKA_PORT", cfg.kafka_port),
            ("KOPPEL_LOCAL_KAFKA_CONTROLLER_PORT", cfg.kafka_controller_port),
        ),
        # The INFO log tells what the broker was doing; the .out file catches JVM
        # errors (bad classpath, OOM) that never reach log4j.
        logs=(cfg.kafka_server_log, cfg.kafka_stdout_log),
        quick_check=kafka_quick,
        ready_check=kafka_ready,
    )
    ferret_part = Part(
        key="ferretdb",
        title="FerretDB (MongoDB API)",
        address=uri,
        host=cfg.host,
        port=cfg.mongo_port,
        pid_file=cfg.ferretdb_pid_file,
        marker=ferretdb.process_marker(cfg),
        ports=(("KOPPEL_LOCAL_MONGO_PORT", cfg.mongo_port),),
        logs=(cfg.ferretdb_log,),
        quick_check=lambda timeout: probes.mongo_ping(uri, timeout),
        ready_check=lambda timeout: probes.mongo_roundtrip(uri, timeout),
    )
    return kafka_part, ferret_part


def _stderr_progress(message: str) -> None:
    print(f"koppel-localstack: {message}", file=sys.stderr, flush=True)


def _answers(part: Part, timeout: float = QUICK_PROBE_TIMEOUT) -> bool:
    # A refused connect answers "no" at once; PyMongo would keep retrying until
    # its server selection timeout, making `status` slow exactly when nothing runs.
    if not process.accepts_connections(part.host, part.port, timeout):
        return False
    try:
        part.quick_check(timeout)
    except Exception:
        return False
    return True


def log_excerpt(part: Part, lines: int = LOG_TAIL_LINES) -> str:
    chunks = []
    for index, log in enumerate(part.logs):
        if index > 0 and not log.exists():
            continue
        count = lines if index == 0 else max(5, lines // 2)
        text = process.since_last_spawn(process.tail(log, count))
        chunks.append(f"--- last lines of {log} ---\n{text}")
    return "\n".join(chunks)


def start(cfg: StackConfig | None = None, *, progress: Progress | None = None) -> Endpoints:
    """Make sure Kafka and FerretDB run and really answer; return where they listen.

    Idempotent: when both already run and answer, this returns at once. First runs
    download jars / build FerretDB into the cache dir. Raises StackError naming the
    failed part, with the tail of its log. Processes spawned by a failed call are
    stopped again so nothing half-started lingers.
    """
    cfg = cfg or StackConfig.from_env()
    say = progress or _stderr_progress
    eps = Endpoints.for_config(cfg)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    all_parts = parts(cfg)
    kafka_part, ferret_part = all_parts

    with process.file_lock(cfg.lock_file, cfg.start_timeout + 300, "start/stop of this stack"):
        pids: dict[str, int | None] = {
            p.key: process.running_pid(p.pid_file, p.marker) for p in all_parts
        }
        if all(pids.values()) and all(_answers(p) for p in all_parts):
            return eps

        to_start = [p for p in all_parts if pids[p.key] is None]
        for part in to_start:
            part.pid_file.unlink(missing_ok=True)  # stale: its process is gone
            _check_ports_free(cfg, part)

        starting_kafka = kafka_part in to_start
        starting_ferret = ferret_part in to_start
        java = _preflight(cfg, starting_kafka, starting_ferret)
        libs, binary = _prepare_artifacts(cfg, say, starting_kafka, starting_ferret)

        spawned: list[tuple[Part, int]] = []
        try:
            if starting_kafka:
                assert java is not None and libs is not None
                kafka.write_server_properties(cfg)
                kafka.ensure_formatted(cfg, java, libs, say)
                say(f"starting Kafka {cfg.kafka_version} on {cfg.kafka_address}...")
                command = kafka.broker_command(cfg, java, libs)
                # log4j appends to this file across runs; mark where this run begins.
                process.stamp_log(cfg.kafka_server_log, command)
                pid = process.spawn(
                    command,
                    log_file=cfg.kafka_stdout_log,
                    pid_file=cfg.kafka_pid_file,
                    cwd=cfg.kafka_data_dir,
                )
                spawned.append((kafka_part, pid))
                pids[kafka_part.key] = pid
            if starting_ferret:
                assert binary is not None
                cfg.ferretdb_data_dir.mkdir(parents=True, exist_ok=True)
                say(f"starting FerretDB on {cfg.mongo_address}...")
                pid = process.spawn(
                    ferretdb.server_command(cfg, binary),
                    log_file=cfg.ferretdb_log,
                    pid_file=cfg.ferretdb_pid_file,
                    cwd=cfg.data_dir,
                )
                spawned.append((ferret_part, pid))
                pids[ferret_part.key] = pid

            deadline = time.monotonic() + cfg.start_timeout
            # FerretDB is up in milliseconds; check it first so a Mongo problem is
            # reported without waiting for the JVM.
            for part in (ferret_part, kafka_part):
                pid = pids[part.key]
                assert pid is not None
                _wait_ready(cfg, part, pid, deadline)
        except BaseException:
            for spawned_part, spawned_pid in spawned:
                process.terminate(spawned_pid, cfg.stop_timeout)
                spawned_part.pid_file.unlink(missing_ok=True)
            raise
        if spawned:
            say(f"ready: Kafka at {eps.kafka_bootstrap}, MongoDB API at {eps.mongodb_uri}")
    return eps


def _check_ports_free(cfg: StackConfig, part: Part) -> None:
    for env_var, port in part.ports:
        if process.port_in_use(cfg.host, port):
            raise StackError(
                f"{part.title} cannot start: {cfg.host}:{port} is already in use by a process "
                f"that koppel_localstack did not start (no live pid in {part.pid_file}). "
                f"Stop that process (see `ss -ltnp 'sport = :{port}'`) or pick another port "
                f"with {env_var}."
            )


def _preflight(cfg: StackConfig, starting_kafka: bool, starting_ferret: bool) -> str | None:
    """Fail before any slow work when a needed tool is missing."""
    java: str | None = None
    if starting_kafka:
        java = kafka.java_executable()
        kafka.check_java(java)
        if not kafka.broker_jar_present(kafka.jars_dir(cfg), cfg.kafka_version):
            process.require_tool("mvn", "download the Kafka jars from Maven Central")
    if starting_ferret and not ferretdb.binary_path(cfg).is_file():
        process.require_tool("go", "build FerretDB (Go 1.24+)")
    return java


def _prepare_artifacts(
    cfg: StackConfig, say: Progress, starting_kafka: bool, starting_ferret: bool
) -> tuple[Path | None, Path | None]:
    # Maven mostly waits on the network and go build on the CPU, so a cold first
    # run does both at once.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        libs_future = pool.submit(kafka.ensure_jars, cfg, say) if starting_kafka else None
        bin_future = pool.submit(ferretdb.ensure_binary, cfg, say) if starting_ferret else None
        libs = libs_future.result() if libs_future else None
        binary = bin_future.result() if bin_future else None
    return libs, binary


def _wait_ready(cfg: StackConfig, part: Part, pid: int, deadline: float) -> None:
    last_error: BaseException | None = None
    while True:
        if not process.is_alive(pid):
            code = process.exit_code(pid)
            raise StackError(
                f"{part.title} exited during start-up"
                f"{'' if code is None else f' (exit code {code})'}; it should listen on "
                f"{part.address}.\n{log_excerpt(part)}"
            )
        # Always make at least one attempt, even when an earlier part used up the time.
        remaining = deadline - time.monotonic()
        try:
            part.ready_check(min(PROBE_ATTEMPT_TIMEOUT, max(1.0, remaining)))
            return
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            raise StackError(
                f"{part.title} (pid {pid}) did not answer at {part.address} within "
                f"{cfg.start_timeout:g}s (last probe error: {last_error!r}).\n"
                f"{log_excerpt(part)}"
            )
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def stop(cfg: StackConfig | None = None) -> dict[str, bool]:
    """Stop both servers (SIGTERM, then SIGKILL after stop_timeout); quiet if not running.

    Returns which parts were running.
    """
    cfg = cfg or StackConfig.from_env()
    all_parts = parts(cfg)
    if not cfg.run_dir.is_dir():
        return {p.key: False for p in all_parts}
    with process.file_lock(cfg.lock_file, cfg.start_timeout + 300, "start/stop of this stack"):
        pids = {p.key: process.running_pid(p.pid_file, p.marker) for p in all_parts}
        # Signal both first so they shut down in parallel, then wait for each.
        for pid in pids.values():
            if pid is not None:
                process.send_term(pid)
        for part in all_parts:
            pid = pids[part.key]
            if pid is not None:
                process.terminate(pid, cfg.stop_timeout)
            part.pid_file.unlink(missing_ok=True)
    return {key: pid is not None for key, pid in pids.items()}


def status(cfg: StackConfig | None = None) -> dict[str, dict[str, Any]]:
    """Per part: running (our pid alive), pid, address, answering, log.

    `answering` is probed even without our pid, so a foreign server squatting on
    the port shows up as running=False, answering=True.
    """
    cfg = cfg or StackConfig.from_env()
    result: dict[str, dict[str, Any]] = {}
    for part in parts(cfg):
        pid = process.running_pid(part.pid_file, part.marker)
        result[part.key] = {
            "running": pid is not None,
            "pid": pid,
            "address": part.address,
            "answering": _answers(part),
            "log": str(part.logs[0]),
        }
    return result


def endpoints(cfg: StackConfig | None = None) -> Endpoints:
    """Where the stack listens (or would listen); does not start anything."""
    return Endpoints.for_config(cfg or StackConfig.from_env())
