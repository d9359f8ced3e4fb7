"""Single-node Kafka (KRaft, combined broker+controller) from Maven Central jars."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from . import process
from .assets import asset, files_digest
from .config import StackConfig, StackError

Progress = Callable[[str], None]

BROKER_MAIN = "kafka.Kafka"
STORAGE_TOOL_MAIN = "kafka.tools.StorageTool"
MIN_JAVA = 17
# First download of ~45 MB of jars; generous because Maven retries slow mirrors.
MAVEN_TIMEOUT = 1200.0
# Same flags kafka-run-class.sh uses; G1 with short pauses keeps a dev broker snappy.
JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


def jars_dir(cfg: StackConfig) -> Path:
    """Cache dir for the jars, keyed by Kafka version plus the pom (log4j pins etc.)."""
    key = f"{cfg.kafka_version}-{files_digest([asset('kafka', 'pom.xml')])[:8]}"
    return cfg.cache_dir / "kafka" / key / "libs"


def broker_jar_present(libs: Path, version: str) -> bool:
    return (libs / f"kafka_2.13-{version}.jar").is_file()


def ensure_jars(cfg: StackConfig, progress: Progress) -> Path:
    """Collect the broker's jars with Maven once per version; later calls are a stat()."""
    libs = jars_dir(cfg)
    if broker_jar_present(libs, cfg.kafka_version):
        return libs
    mvn = process.require_tool("mvn", "download the Kafka jars from Maven Central")
    libs.parent.mkdir(parents=True, exist_ok=True)
    with process.file_lock(libs.parent / ".lock", MAVEN_TIMEOUT, "downloading Kafka jars"):
        if broker_jar_present(libs, cfg.kafka_version):
            return libs  # another process finished the download while we waited
        progress(
            f"downloading Kafka {cfg.kafka_version} jars from Maven Central into {libs} "
            "(first run only, can take a few minutes)..."
        )
        # Download into a scratch dir and rename: an interrupted download must never
        # look like a complete cache.
        with tempfile.TemporaryDirectory(dir=libs.parent, prefix="mvn-") as scratch:
            work = Path(scratch)
            shutil.copy2(asset("kafka", "pom.xml"), work / "pom.xml")
            out = work / "libs"
            cmd = [
                mvn,
                "-q",
                "-B",
                "-f",
                str(work / "pom.xml"),
                "dependency:copy-dependencies",
                f"-Dkafka.version={cfg.kafka_version}",
                f"-DoutputDirectory={out}",
                "-DincludeScope=runtime",
            ]
            log = libs.parent / "maven.log"
            try:
                with log.open("wb") as handle:
                    result = subprocess.run(
                        cmd,
                        cwd=work,
                        stdin=subprocess.DEVNULL,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        timeout=MAVEN_TIMEOUT,
                        check=False,
                    )
            except subprocess.TimeoutExpired:
                raise StackError(
                    f"Kafka jars: Maven did not finish within {MAVEN_TIMEOUT:.0f}s.\n"
                    f"Last lines of {log}:\n{process.tail(log)}"
                ) from None
            if result.returncode != 0 or not broker_jar_present(out, cfg.kafka_version):
                raise StackError(
                    f"Kafka jars: `mvn dependency:copy-dependencies` failed for Kafka "
                    f"{cfg.kafka_version} (exit {result.returncode}). Is Maven Central "
                    f"reachable and does that version exist?\nLast lines of {log}:\n"
                    f"{process.tail(log)}"
                )
            if libs.exists():
                shutil.rmtree(libs)  # a stale partial dir from an older layout
            out.replace(libs)
        progress(f"Kafka jars ready ({sum(1 for _ in libs.glob('*.jar'))} jars)")
    return libs


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return process.require_tool("java", f"run the Kafka broker (Java {MIN_JAVA}+)")


def parse_java_major(version_output: str) -> int | None:
    """Major version from `java -version` output ('17.0.15', '1.8.0_412', '21')."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))  # pre-9 scheme: 1.8 -> 8
    return major


def check_java(java: str) -> None:
    result = subprocess.run(
        [java, "-version"], capture_output=True, text=True, timeout=60, check=False
    )
    major = parse_java_major(result.stderr + result.stdout)
    if major is None:
        raise StackError(f"could not tell the Java version of {java}: {result.stderr.strip()!r}")
    if major < MIN_JAVA:
        raise StackError(
            f"Kafka 4.x brokers need Java {MIN_JAVA}+, but {java} is Java {major}. "
            "Set JAVA_HOME or PATH to a newer JDK."
        )


def random_cluster_id() -> str:
    """A Kafka Uuid in its 22-char URL-safe base64 form, like `StorageTool random-uuid`.

    Done in Python to save a JVM start. Kafka itself re-rolls ids starting with '-'
    because they look like CLI options; so do we.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def server_properties(cfg: StackConfig) -> str:
    host = cfg.host
    lines = [
        "# Generated by koppel_localstack on every start; edits are overwritten.",
        "process.roles=broker,controller",
        "node.id=1",
        # Dynamic quorum (KIP-853): requires `format --standalone` on first start.
        f"controller.quorum.bootstrap.servers={host}:{cfg.kafka_controller_port}",
        f"listeners=PLAINTEXT://{host}:{cfg.kafka_port},CONTROLLER://{host}:{cfg.kafka_controller_port}",
        f"advertised.listeners=PLAINTEXT://{host}:{cfg.kafka_port},"
        f"CONTROLLER://{host}:{cfg.kafka_controller_port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={cfg.kafka_log_dir}",
        "num.partitions=3",
        "auto.create.topics.enable=true",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        # Consumer groups join at once instead of after the default 3 s.
        "group.initial.rebalance.delay.ms=0",
        # Fewer internal partitions than the default 50: the first consumer group on
        # a fresh data dir is ready in well under a second on a 2-core machine.
        "offsets.topic.num.partitions=10",
        "transaction.state.log.num.partitions=10",
        "share.coordinator.state.topic.num.partitions=3",
    ]
    return "\n".join(lines) + "\n"


def write_server_properties(cfg: StackConfig) -> Path:
    cfg.kafka_data_dir.mkdir(parents=True, exist_ok=True)
    path = cfg.kafka_properties_file
    path.write_text(server_properties(cfg))
    return path


def is_formatted(cfg: StackConfig) -> bool:
    return (cfg.kafka_log_dir / "meta.properties").is_file()


def _classpath(libs: Path) -> str:
    # The JVM expands 'dir/*' itself, so the command line stays short.
    return str(libs / "*")


def _log4j_flags(cfg: StackConfig) -> list[str]:
    return [
        f"-Dlog4j2.configurationFile={asset('kafka', 'log4j2.properties')}",
        f"-Dkafka.logs.dir={cfg.run_dir}",
        f"-Dkoppel.kafka.log.name={cfg.kafka_log_name}",
    ]


def ensure_formatted(cfg: StackConfig, java: str, libs: Path, progress: Progress) -> None:
    """Format the KRaft log dir once; a formatted dir keeps its cluster id forever."""
    if is_formatted(cfg):
        return
    cfg.kafka_log_dir.mkdir(parents=True, exist_ok=True)
    cluster_id = random_cluster_id()
    progress(f"formatting Kafka storage in {cfg.kafka_log_dir} (cluster id {cluster_id})...")
    cmd = [
        java,
        "-Xmx256m",
        *_log4j_flags(cfg),
        "-cp",
        _classpath(libs),
        STORAGE_TOOL_MAIN,
        "format",
        "--standalone",
        "--cluster-id",
        cluster_id,
        "--config",
        str(cfg.kafka_properties_file),
    ]
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    log = cfg.kafka_format_log
    with log.open("wb") as handle:
        result = subprocess.run(
            cmd,
            cwd=cfg.kafka_data_dir,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=False,
        )
    if result.returncode != 0 or not is_formatted(cfg):
        raise StackError(
            f"Kafka: formatting storage in {cfg.kafka_log_dir} failed "
            f"(exit {result.returncode}).\nLast lines of {log}:\n{process.tail(log)}"
        )


def broker_command(cfg: StackConfig, java: str, libs: Path) -> list[str]:
    return [
        java,
        *cfg.kafka_heap,
        *JVM_FLAGS,
        *_log4j_flags(cfg),
        "-cp",
        _classpath(libs),
        BROKER_MAIN,
        str(cfg.kafka_properties_file),
    ]
