"""Configuration of the local stack: ports, directories and timeouts, read from env vars."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_KAFKA_VERSION = "4.3.1"
DEFAULT_KAFKA_PORT = 9092
DEFAULT_KAFKA_CONTROLLER_PORT = 9093
DEFAULT_MONGO_PORT = 27017
DEFAULT_START_TIMEOUT = 120.0
DEFAULT_STOP_TIMEOUT = 30.0
# The machines have 2 cores; a single-node dev broker does not need Kafka's default 1 GiB.
# A test run creates (and deletes) thousands of short-lived partitions; the
# controller's metadata for them outgrew 512 MB once, so give it room.
DEFAULT_KAFKA_HEAP: tuple[str, ...] = ("-Xms256m", "-Xmx1g")
# FerretDB dumps every failed command (even PyMongo's endSessions) at warn.
DEFAULT_FERRETDB_LOG_LEVEL = "error"
FERRETDB_LOG_LEVELS = ("debug", "info", "warn", "error")


class StackError(RuntimeError):
    """The local stack could not be configured, built, started or reached."""


def find_repo_root(start: Path | None = None) -> Path:
    """Locate the Koppel repo so default data/run dirs land in `<repo>/.local`.

    The source layout is tried first (workspace installs are editable), then the
    working directory and its parents, so a wheel install run from inside the
    repo still finds it.
    """
    here = Path(__file__).resolve()
    # <repo>/deploy/local/src/koppel_localstack/config.py
    if len(here.parents) > 4:
        candidate = here.parents[4]
        if (candidate / "deploy" / "local" / "pyproject.toml").is_file():
            return candidate
    origin = (start or Path.cwd()).resolve()
    for directory in (origin, *origin.parents):
        if (directory / "deploy" / "local" / "pyproject.toml").is_file():
            return directory
    return origin


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path("~/.cache").expanduser()
    return base / "koppel"


def _default_data_dir() -> Path:
    return find_repo_root() / ".local" / "data"


def _default_run_dir() -> Path:
    return find_repo_root() / ".local" / "run"


@dataclass
class StackConfig:
    """Where and how the local Kafka and FerretDB run.

    Plain mutable dataclass on purpose: tests build one with other ports and a
    temp data dir, or tweak fields of `from_env()`'s result.
    """

    kafka_port: int = DEFAULT_KAFKA_PORT
    kafka_controller_port: int = DEFAULT_KAFKA_CONTROLLER_PORT
    mongo_port: int = DEFAULT_MONGO_PORT
    data_dir: Path = field(default_factory=_default_data_dir)
    run_dir: Path = field(default_factory=_default_run_dir)
    cache_dir: Path = field(default_factory=default_cache_dir)
    host: str = "127.0.0.1"
    kafka_version: str = DEFAULT_KAFKA_VERSION
    start_timeout: float = DEFAULT_START_TIMEOUT
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    kafka_heap: tuple[str, ...] = DEFAULT_KAFKA_HEAP
    ferretdb_log_level: str = DEFAULT_FERRETDB_LOG_LEVEL

    def __post_init__(self) -> None:
        # Accept str paths from callers; everything below works on resolved Paths
        # because the paths end up in pid markers and generated config files.
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        self.run_dir = Path(self.run_dir).expanduser().resolve()
        self.cache_dir = Path(self.cache_dir).expanduser().resolve()
        self.validate()

    def validate(self) -> None:
        ports = {
            "kafka_port": self.kafka_port,
            "kafka_controller_port": self.kafka_controller_port,
            "mongo_port": self.mongo_port,
        }
        for name, port in ports.items():
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                raise StackError(f"{name} must be a TCP port number (1-65535), got {port!r}")
        if len(set(ports.values())) != len(ports):
            raise StackError(f"kafka, kafka controller and mongo ports must differ, got {ports}")
        if self.start_timeout <= 0 or self.stop_timeout <= 0:
            raise StackError("start_timeout and stop_timeout must be positive")
        if self.ferretdb_log_level not in FERRETDB_LOG_LEVELS:
            raise StackError(
                f"ferretdb_log_level must be one of {FERRETDB_LOG_LEVELS}, "
                f"got {self.ferretdb_log_level!r}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        """Build a config from KOPPEL_LOCAL_* / KOPPEL_CACHE_DIR; unset or empty means default."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        for var, name in (
            ("KOPPEL_LOCAL_KAFKA_PORT", "kafka_port"),
            ("KOPPEL_LOCAL_KAFKA_CONTROLLER_PORT", "kafka_controller_port"),
            ("KOPPEL_LOCAL_MONGO_PORT", "mongo_port"),
        ):
            value = _get(env, var)
            if value is not None:
                kwargs[name] = _parse_port(var, value)
        for var, name in (
            ("KOPPEL_LOCAL_DATA_DIR", "data_dir"),
            ("KOPPEL_LOCAL_RUN_DIR", "run_dir"),
            ("KOPPEL_CACHE_DIR", "cache_dir"),
        ):
            value = _get(env, var)
            if value is not None:
                kwargs[name] = Path(value).expanduser()
        if "cache_dir" not in kwargs:
            kwargs["cache_dir"] = default_cache_dir(env)
        version = _get(env, "KOPPEL_LOCAL_KAFKA_VERSION")
        if version is not None:
            kwargs["kafka_version"] = version
        level = _get(env, "KOPPEL_LOCAL_FERRETDB_LOG_LEVEL")
        if level is not None:
            if level.lower() not in FERRETDB_LOG_LEVELS:
                raise StackError(
                    f"KOPPEL_LOCAL_FERRETDB_LOG_LEVEL must be one of {FERRETDB_LOG_LEVELS}, "
                    f"got {level!r}"
                )
            kwargs["ferretdb_log_level"] = level.lower()
        timeout = _get(env, "KOPPEL_LOCAL_START_TIMEOUT")
        if timeout is not None:
            kwargs["start_timeout"] = _parse_seconds("KOPPEL_LOCAL_START_TIMEOUT", timeout)
        return cls(**kwargs)  # type: ignore[arg-type]

    # Derived locations. Pid/log names carry the port so several stacks (e.g. a
    # dev stack and a test stack) can share one run dir without clobbering.

    @property
    def kafka_address(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def mongo_address(self) -> str:
        return f"{self.host}:{self.mongo_port}"

    @property
    def kafka_data_dir(self) -> Path:
        return self.data_dir / "kafka"

    @property
    def kafka_log_dir(self) -> Path:
        """Kafka's `log.dirs`: partition data and meta.properties (not text logs)."""
        return self.kafka_data_dir / "log"

    @property
    def kafka_properties_file(self) -> Path:
        return self.kafka_data_dir / "server.properties"

    @property
    def ferretdb_data_dir(self) -> Path:
        return self.data_dir / "ferretdb"

    @property
    def kafka_pid_file(self) -> Path:
        return self.run_dir / f"kafka-{self.kafka_port}.pid"

    @property
    def ferretdb_pid_file(self) -> Path:
        return self.run_dir / f"ferretdb-{self.mongo_port}.pid"

    @property
    def kafka_stdout_log(self) -> Path:
        return self.run_dir / f"kafka-{self.kafka_port}.out"

    @property
    def kafka_log_name(self) -> str:
        """Base name log4j2 uses for the broker's INFO log in the run dir."""
        return f"kafka-{self.kafka_port}-server"

    @property
    def kafka_server_log(self) -> Path:
        return self.run_dir / f"{self.kafka_log_name}.log"

    @property
    def kafka_format_log(self) -> Path:
        return self.run_dir / f"kafka-{self.kafka_port}-format.log"

    @property
    def ferretdb_log(self) -> Path:
        return self.run_dir / f"ferretdb-{self.mongo_port}.log"

    @property
    def lock_file(self) -> Path:
        return self.run_dir / f"stack-{self.kafka_port}-{self.mongo_port}.lock"


@dataclass(frozen=True)
class Endpoints:
    """Addresses clients connect to."""

    kafka_bootstrap: str
    mongodb_uri: str

    @classmethod
    def for_config(cls, cfg: StackConfig) -> Endpoints:
        return cls(
            kafka_bootstrap=cfg.kafka_address,
            mongodb_uri=f"mongodb://{cfg.mongo_address}/",
        )


def _get(env: Mapping[str, str], var: str) -> str | None:
    value = env.get(var)
    if value is None or not value.strip():
        return None
    return value.strip()


def _parse_port(var: str, value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise StackError(f"{var} must be an integer port, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise StackError(f"{var} must be between 1 and 65535, got {port}")
    return port


def _parse_seconds(var: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise StackError(f"{var} must be a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise StackError(f"{var} must be positive, got {seconds}")
    return seconds
