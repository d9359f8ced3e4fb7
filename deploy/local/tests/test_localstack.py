"""Fast unit tests of koppel_localstack: config parsing and pure helpers.

Starting the real servers is covered by the project's integration tests.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from koppel_localstack import (
    Endpoints,
    StackConfig,
    StackError,
    assets,
    endpoints,
    ferretdb,
    kafka,
    probes,
    process,
    status,
)
from koppel_localstack import __main__ as cli
from koppel_localstack.config import default_cache_dir, find_repo_root

ENV_VARS = (
    "KOPPEL_LOCAL_KAFKA_PORT",
    "KOPPEL_LOCAL_KAFKA_CONTROLLER_PORT",
    "KOPPEL_LOCAL_MONGO_PORT",
    "KOPPEL_LOCAL_DATA_DIR",
    "KOPPEL_LOCAL_RUN_DIR",
    "KOPPEL_CACHE_DIR",
    "KOPPEL_LOCAL_KAFKA_VERSION",
    "KOPPEL_LOCAL_START_TIMEOUT",
    "KOPPEL_LOCAL_FERRETDB_LOG_LEVEL",
    "XDG_CACHE_HOME",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def cfg(tmp_path: Path) -> StackConfig:
    return StackConfig(
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        mongo_port=free_port(),
        data_dir=tmp_path / "data",
        run_dir=tmp_path / "run",
        cache_dir=tmp_path / "cache",
    )


# --- config -------------------------------------------------------------------------


def test_defaults_from_empty_env(clean_env: None) -> None:
    config = StackConfig.from_env({})
    repo = find_repo_root()
    assert (config.kafka_port, config.kafka_controller_port, config.mongo_port) == (
        9092,
        9093,
        27017,
    )
    assert config.data_dir == (repo / ".local" / "data").resolve()
    assert config.run_dir == (repo / ".local" / "run").resolve()
    assert config.cache_dir == (Path("~/.cache").expanduser() / "koppel").resolve()
    assert config.start_timeout == 120.0
    assert config.kafka_version.startswith("4.")


def test_repo_root_is_this_checkout() -> None:
    assert (find_repo_root() / "deploy" / "local" / "pyproject.toml").is_file()


def test_env_overrides(tmp_path: Path) -> None:
    env = {
        "KOPPEL_LOCAL_KAFKA_PORT": "19092",
        "KOPPEL_LOCAL_KAFKA_CONTROLLER_PORT": " 19093 ",
        "KOPPEL_LOCAL_MONGO_PORT": "27018",
        "KOPPEL_LOCAL_DATA_DIR": str(tmp_path / "d"),
        "KOPPEL_LOCAL_RUN_DIR": str(tmp_path / "r"),
        "KOPPEL_CACHE_DIR": str(tmp_path / "c"),
        "KOPPEL_LOCAL_KAFKA_VERSION": "4.2.2",
        "KOPPEL_LOCAL_START_TIMEOUT": "30",
        "KOPPEL_LOCAL_FERRETDB_LOG_LEVEL": "WARN",
    }
    config = StackConfig.from_env(env)
    assert (config.kafka_port, config.kafka_controller_port, config.mongo_port) == (
        19092,
        19093,
        27018,
    )
    assert config.data_dir == tmp_path / "d"
    assert config.run_dir == tmp_path / "r"
    assert config.cache_dir == tmp_path / "c"
    assert config.kafka_version == "4.2.2"
    assert config.start_timeout == 30.0
    assert config.ferretdb_log_level == "warn"


def test_cache_dir_follows_xdg(tmp_path: Path) -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "koppel"
    config = StackConfig.from_env({"XDG_CACHE_HOME": str(tmp_path)})
    assert config.cache_dir == tmp_path / "koppel"
    # The explicit variable wins over XDG.
    both = {"XDG_CACHE_HOME": str(tmp_path), "KOPPEL_CACHE_DIR": str(tmp_path / "x")}
    assert StackConfig.from_env(both).cache_dir == tmp_path / "x"


def test_empty_env_values_mean_default() -> None:
    config = StackConfig.from_env({"KOPPEL_LOCAL_KAFKA_PORT": "", "KOPPEL_LOCAL_DATA_DIR": "  "})
    assert config.kafka_port == 9092
    assert config.data_dir.name == "data"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("KOPPEL_LOCAL_KAFKA_PORT", "kafka"),
        ("KOPPEL_LOCAL_MONGO_PORT", "0"),
        ("KOPPEL_LOCAL_KAFKA_CONTROLLER_PORT", "70000"),
        ("KOPPEL_LOCAL_START_TIMEOUT", "-1"),
        ("KOPPEL_LOCAL_START_TIMEOUT", "soon"),
        ("KOPPEL_LOCAL_FERRETDB_LOG_LEVEL", "chatty"),
    ],
)
def test_bad_env_values_raise_stack_error(var: str, value: str) -> None:
    with pytest.raises(StackError, match=var):
        StackConfig.from_env({var: value})


def test_ports_must_differ(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="must differ"):
        StackConfig(kafka_port=9092, kafka_controller_port=9092, data_dir=tmp_path)


def test_str_paths_are_accepted_and_resolved(tmp_path: Path) -> None:
    raw_data_dir: object = str(tmp_path / "a" / ".." / "b")
    config = StackConfig(data_dir=raw_data_dir, run_dir=str(tmp_path))  # type: ignore[arg-type]
    assert config.data_dir == tmp_path / "b"
    assert isinstance(config.run_dir, Path)


def test_config_is_mutable_for_tests(cfg: StackConfig) -> None:
    cfg.start_timeout = 5
    cfg.validate()
    assert cfg.start_timeout == 5


def test_derived_files_carry_ports(cfg: StackConfig) -> None:
    # Port-specific names let a dev stack and a test stack share one run dir.
    assert cfg.kafka_pid_file.name == f"kafka-{cfg.kafka_port}.pid"
    assert cfg.ferretdb_pid_file.name == f"ferretdb-{cfg.mongo_port}.pid"
    assert str(cfg.kafka_port) in cfg.kafka_server_log.name
    assert str(cfg.mongo_port) in cfg.ferretdb_log.name
    assert cfg.kafka_log_dir.is_relative_to(cfg.data_dir)
    assert cfg.ferretdb_data_dir.is_relative_to(cfg.data_dir)
    assert cfg.kafka_properties_file.is_relative_to(cfg.data_dir)


def test_endpoints(cfg: StackConfig) -> None:
    eps = Endpoints.for_config(cfg)
    assert eps.kafka_bootstrap == f"127.0.0.1:{cfg.kafka_port}"
    assert eps.mongodb_uri == f"mongodb://127.0.0.1:{cfg.mongo_port}/"
    assert endpoints(cfg) == eps
    default = Endpoints.for_config(StackConfig.from_env({}))
    assert default == Endpoints("127.0.0.1:9092", "mongodb://127.0.0.1:27017/")


# --- kafka helpers ------------------------------------------------------------------


def parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_server_properties(cfg: StackConfig) -> None:
    props = parse_properties(kafka.server_properties(cfg))
    broker = f"127.0.0.1:{cfg.kafka_port}"
    controller = f"127.0.0.1:{cfg.kafka_controller_port}"
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.bootstrap.servers"] == controller
    assert props["listeners"] == f"PLAINTEXT://{broker},CONTROLLER://{controller}"
    assert props["advertised.listeners"] == props["listeners"]
    assert props["log.dirs"] == str(cfg.kafka_log_dir)
    assert props["num.partitions"] == "3"
    assert props["auto.create.topics.enable"] == "true"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert props[key] == "1"
    # Static voters and --standalone formatting are mutually exclusive.
    assert "controller.quorum.voters" not in props


def test_write_server_properties(cfg: StackConfig) -> None:
    path = kafka.write_server_properties(cfg)
    assert path == cfg.kafka_properties_file
    assert path.read_text() == kafka.server_properties(cfg)
    assert not kafka.is_formatted(cfg)


def test_random_cluster_id_is_a_kafka_uuid() -> None:
    ids = {kafka.random_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_412"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("no version here", None),
    ],
)
def test_parse_java_major(output: str, major: int | None) -> None:
    assert kafka.parse_java_major(output) == major


def test_broker_command(cfg: StackConfig, tmp_path: Path) -> None:
    libs = tmp_path / "libs"
    cmd = kafka.broker_command(cfg, "/usr/bin/java", libs)
    assert cmd[0] == "/usr/bin/java"
    assert "-Xmx1g" in cmd
    assert cmd[cmd.index("-cp") + 1] == str(libs / "*")
    assert cmd[-2:] == [kafka.BROKER_MAIN, str(cfg.kafka_properties_file)]
    assert f"-Dkafka.logs.dir={cfg.run_dir}" in cmd
    assert any(arg.startswith("-Dlog4j2.configurationFile=") for arg in cmd)


def test_jars_dir_is_keyed_by_version(cfg: StackConfig) -> None:
    first = kafka.jars_dir(cfg)
    cfg.kafka_version = "4.0.0"
    second = kafka.jars_dir(cfg)
    assert first != second
    assert first.is_relative_to(cfg.cache_dir) and second.name == "libs"
    assert second.parent.name.startswith("4.0.0-")
    assert not kafka.broker_jar_present(second, "4.0.0")


def test_pom_and_log4j_config_are_shipped() -> None:
    pom = assets.asset("kafka", "pom.xml").read_text()
    assert "<artifactId>kafka_2.13</artifactId>" in pom
    assert "log4j-slf4j-impl" in pom
    log4j = assets.asset("kafka", "log4j2.properties").read_text()
    assert "${sys:kafka.logs.dir}" in log4j


# --- ferretdb helpers ---------------------------------------------------------------


def test_ferretdb_binary_keyed_by_source_hash(cfg: StackConfig) -> None:
    path = ferretdb.binary_path(cfg)
    assert path.name == ferretdb.BINARY_NAME
    assert path.parent.name == ferretdb.source_digest()
    assert path.is_relative_to(cfg.cache_dir)
    for name in ferretdb.SOURCE_FILES:
        assert assets.asset("ferretdb", name).is_file()
    assert "github.com/FerretDB/FerretDB v1.24.2" in assets.asset("ferretdb", "go.mod").read_text()


def test_ferretdb_command(cfg: StackConfig, tmp_path: Path) -> None:
    cmd = ferretdb.server_command(cfg, tmp_path / "ferretdb-lite")
    assert cmd[cmd.index("-listen-addr") + 1] == f"127.0.0.1:{cfg.mongo_port}"
    assert cmd[cmd.index("-sqlite-dir") + 1] == str(cfg.ferretdb_data_dir)
    assert ferretdb.process_marker(cfg) in " ".join(cmd)


def test_files_digest_tracks_content(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text("one")
    first = assets.files_digest([a])
    assert assets.files_digest([a]) == first
    assert assets.files_digest([a], "extra") != first
    a.write_text("two")
    assert assets.files_digest([a]) != first


# --- process helpers ----------------------------------------------------------------


def test_tail_and_spawn_marker(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    assert "no log" in process.tail(log)
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert process.tail(log, 3).splitlines() == ["line 97", "line 98", "line 99"]
    process.stamp_log(log, ["prog", "--flag"])
    log.write_text(log.read_text() + "fresh\n")
    excerpt = process.since_last_spawn(process.tail(log, 10))
    assert excerpt.startswith(process.SPAWN_MARKER)
    assert excerpt.splitlines()[-1] == "fresh"
    assert "line 99" not in excerpt


def test_read_pid(tmp_path: Path) -> None:
    pid_file = tmp_path / "p.pid"
    assert process.read_pid(pid_file) is None
    pid_file.write_text("garbage")
    assert process.read_pid(pid_file) is None
    pid_file.write_text("1234\n")
    assert process.read_pid(pid_file) == 1234


def test_running_pid_checks_marker(tmp_path: Path) -> None:
    pid_file = tmp_path / "p.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    own_cmdline = process.cmdline(os.getpid())
    if own_cmdline is not None:  # /proc available: a recycled pid is not ours
        assert process.running_pid(pid_file, "no-such-marker-xyz") is None
    assert process.running_pid(pid_file, "") == os.getpid()


def test_dead_child_is_not_alive(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process.is_alive(child.pid)


def test_spawn_and_terminate(tmp_path: Path) -> None:
    pid = process.spawn(
        [sys.executable, "-c", "import time; print('hello', flush=True); time.sleep(60)"],
        log_file=tmp_path / "s.log",
        pid_file=tmp_path / "s.pid",
        cwd=tmp_path,
    )
    try:
        assert process.read_pid(tmp_path / "s.pid") == pid
        assert process.is_alive(pid)
        assert os.getpgid(pid) == pid  # own session, survives the caller's Ctrl-C
    finally:
        process.terminate(pid, timeout=10)
    assert not process.is_alive(pid)
    assert process.SPAWN_MARKER in (tmp_path / "s.log").read_text()


def test_port_in_use() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = int(sock.getsockname()[1])
        assert process.port_in_use("127.0.0.1", port)
        assert process.accepts_connections("127.0.0.1", port, 1.0)
    assert not process.port_in_use("127.0.0.1", port)


def test_file_lock_times_out(tmp_path: Path) -> None:
    lock = tmp_path / "l.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a');"
            " fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(30)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(StackError, match="waiting for another process"):
            with process.file_lock(lock, timeout=0.3, what="test"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with process.file_lock(lock, timeout=1, what="test"):
        pass


def test_require_tool() -> None:
    assert process.require_tool("sh", "run shells")
    with pytest.raises(StackError, match="no-such-tool-xyz"):
        process.require_tool("no-such-tool-xyz", "test")


# --- probes -------------------------------------------------------------------------


class FakeResponse:
    def __init__(self, obj: dict[str, object]) -> None:
        self.obj = obj

    def to_object(self) -> dict[str, object]:
        return self.obj


def test_topic_errors() -> None:
    ok = FakeResponse({"topics": [{"name": "t", "error_code": 0, "error_message": None}]})
    assert probes.topic_errors(ok) == []
    older = FakeResponse({"topic_errors": [{"topic": "t", "error_code": 36}]})
    assert probes.topic_errors(older) == [("t", 36, None)]


def test_run_async_works_inside_a_running_loop() -> None:
    import asyncio

    async def answer() -> int:
        return 42

    assert probes.run_async(answer, 5) == 42

    async def nested() -> int:
        return probes.run_async(answer, 5)

    assert asyncio.run(nested()) == 42


# --- status / CLI (nothing started: ports are free) ----------------------------------


def test_status_when_nothing_runs(cfg: StackConfig) -> None:
    report = status(cfg)
    assert set(report) == {"kafka", "ferretdb"}
    for item in report.values():
        assert item["running"] is False
        assert item["pid"] is None
        assert item["answering"] is False
    assert report["kafka"]["address"] == f"127.0.0.1:{cfg.kafka_port}"


def test_status_table() -> None:
    table = cli.format_status_table(
        {
            "kafka": {
                "running": True,
                "pid": 12,
                "address": "127.0.0.1:9092",
                "answering": True,
                "log": "k.log",
            },
            "ferretdb": {"running": False, "pid": None, "address": "m", "answering": False},
        }
    )
    lines = table.splitlines()
    assert lines[0].split() == ["part", "running", "pid", "answering", "address", "log"]
    assert lines[1].split() == ["kafka", "yes", "12", "yes", "127.0.0.1:9092", "k.log"]
    assert lines[2].split() == ["ferretdb", "no", "-", "no", "m"]


def test_cli_endpoints_json(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KOPPEL_LOCAL_KAFKA_PORT", "19092")
    assert cli.main(["endpoints", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "kafka_bootstrap": "127.0.0.1:19092",
        "mongodb_uri": "mongodb://127.0.0.1:27017/",
    }


def test_cli_reports_config_errors(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KOPPEL_LOCAL_MONGO_PORT", "mongo")
    assert cli.main(["status"]) == cli.EXIT_FAILED
    assert "KOPPEL_LOCAL_MONGO_PORT" in capsys.readouterr().err


def test_cli_status_exit_code_when_stopped(
    cfg: StackConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KOPPEL_LOCAL_KAFKA_PORT", str(cfg.kafka_port))
    monkeypatch.setenv("KOPPEL_LOCAL_KAFKA_CONTROLLER_PORT", str(cfg.kafka_controller_port))
    monkeypatch.setenv("KOPPEL_LOCAL_MONGO_PORT", str(cfg.mongo_port))
    monkeypatch.setenv("KOPPEL_LOCAL_RUN_DIR", str(cfg.run_dir))
    monkeypatch.setenv("KOPPEL_LOCAL_DATA_DIR", str(cfg.data_dir))
    assert cli.main(["status", "--json"]) == cli.EXIT_NOT_RUNNING
    assert json.loads(capsys.readouterr().out)["kafka"]["running"] is False
    assert cli.main(["stop"]) == 0


def test_source_patch_replaces_exactly_what_it_names(tmp_path: Path) -> None:
    (tmp_path / "a.go").write_text("x := 1\nif n == 1 {\n}\nif n == 1 {\n}\n")
    ferretdb.SourcePatch("a.go", "if n == 1 {", "if n >= 1 {", count=2).apply(tmp_path)
    assert (tmp_path / "a.go").read_text() == "x := 1\nif n >= 1 {\n}\nif n >= 1 {\n}\n"


def test_source_patch_that_no_longer_fits_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "a.go").write_text("if n == 1 {\n}\n")
    with pytest.raises(StackError, match=r"no longer fits a\.go"):
        ferretdb.SourcePatch("a.go", "if n == 1 {", "if n >= 1 {", count=2).apply(tmp_path)
    assert (tmp_path / "a.go").read_text() == "if n == 1 {\n}\n"


def test_patches_change_the_build_key() -> None:
    digest = ferretdb.source_digest()
    original = ferretdb.PATCHES
    try:
        ferretdb.PATCHES = original[:1]
        assert ferretdb.source_digest() != digest
    finally:
        ferretdb.PATCHES = original
