"""A real single-node Apache Kafka (KRaft) as a plain JVM process, for development and tests.

The broker jars come from Maven Central through ``mvn`` (resolved once into a cache
folder; later starts reuse them and work offline). Nothing else is downloaded.

Layout of a data dir::

    <data-dir>/server.properties   written on first start, reused afterwards
    <data-dir>/log4j2.xml
    <data-dir>/logs/               the KRaft log dir (formatted on first start)
    <data-dir>/broker.log          the broker's stdout and stderr
    <data-dir>/broker.pid          present while a broker we started is running
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

KAFKA_VERSION = "4.1.1"
# The log4j2 version the Kafka 4.1 release ships; the slf4j 1.x binding because
# Kafka uses slf4j-api 1.7.
LOG4J_VERSION = "2.24.3"
DEFAULT_PORT = 9092
JVM_FLAGS = (
    "-Xms256m",
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


class KafkaLaunchError(RuntimeError):
    """A broker could not be started or stopped; the message is a one-line cause."""


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    data_dir: Path


def cache_dir() -> Path:
    """Where resolved jars live: ``$LAGWATCH_CACHE`` or ``$XDG_CACHE_HOME/lagwatch``."""
    if env := os.environ.get("LAGWATCH_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lagwatch"


def default_data_dir(port: int) -> Path:
    """One data dir per port, so several brokers can live side by side."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "lagwatch" / f"kafka-{port}"


# --- prerequisites ---------------------------------------------------------------


def find_java() -> str:
    """Path of a Java 17+ executable (``$JAVA_HOME/bin/java`` first, then PATH)."""
    candidates = []
    if java_home := os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(java_home) / "bin" / "java"))
    if on_path := shutil.which("java"):
        candidates.append(on_path)
    for java in candidates:
        if Path(java).is_file() and os.access(java, os.X_OK):
            major = java_major_version(java)
            if major is not None and major >= 17:
                return java
            raise KafkaLaunchError(
                f"Java 17+ is required to run Kafka, but {java} is version {major or 'unknown'}; "
                "install a Java 17+ JDK or point JAVA_HOME at one"
            )
    raise KafkaLaunchError(
        "Java 17+ is required to run Kafka, but no 'java' was found on PATH or in JAVA_HOME; "
        "install a Java 17+ JDK (e.g. apt-get install openjdk-17-jre-headless)"
    )


def java_major_version(java: str) -> int | None:
    """Major version from ``java -version`` ("1.8.0_392" is 8, "17.0.15" is 17)."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_java_version(out.stderr + out.stdout)


def parse_java_version(text: str) -> int | None:
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # legacy "1.8" scheme
        return int(match.group(2))
    return major


# --- jars ------------------------------------------------------------------------

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.lagwatch</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-api</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


def libs_dir() -> Path:
    return cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"


def ensure_jars(progress=print) -> Path:
    """Resolve the broker classpath with mvn once; return the folder holding the jars.

    A ``.complete`` marker is written only after mvn succeeded, so an interrupted
    download is retried rather than used half-done.
    """
    libs = libs_dir()
    if (libs / ".complete").exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaLaunchError(
            "Maven ('mvn') is required once to fetch the Kafka jars from Maven Central, "
            "but it is not on PATH; install it (e.g. apt-get install maven)"
        )
    work = libs.parent
    work.mkdir(parents=True, exist_ok=True)
    (work / "pom.xml").write_text(_POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION))
    progress(f"resolving org.apache.kafka:kafka_2.13:{KAFKA_VERSION} from Maven Central …")
    shutil.rmtree(libs, ignore_errors=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        raise KafkaLaunchError(f"mvn could not resolve the Kafka jars: {tail}")
    (libs / ".complete").write_text(KAFKA_VERSION + "\n")
    return libs


# --- data dir and config -----------------------------------------------------------

_LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="stdout"/></Root>
  </Loggers>
</Configuration>
"""


def server_properties(port: int, controller_port: int, log_dir: Path) -> str:
    """Single-node broker+controller settings; every listener on 127.0.0.1."""
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}",
            f"log.dirs={log_dir}",
            "num.partitions=1",
            # One broker: internal topics must not ask for more replicas than exist.
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=10",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "delete.topic.enable=true",
            "",
        ]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def read_pid(data_dir: Path) -> int | None:
    """The pid of a broker we started from this data dir, if it is still alive."""
    try:
        pid = int((data_dir / "broker.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    # Guard against pid reuse: the process must be a Kafka broker for this data dir.
    return pid if "kafka.Kafka" in cmdline and str(data_dir) in cmdline else None


def status(port: int = DEFAULT_PORT, data_dir: Path | None = None) -> BrokerStatus:
    data_dir = (data_dir or default_data_dir(port)).resolve()
    pid = read_pid(data_dir)
    return BrokerStatus(pid is not None, pid, f"127.0.0.1:{port}", data_dir)


def _prepare_data_dir(java: str, libs: Path, port: int, data_dir: Path) -> Path:
    """Write config and format the KRaft log dir on first use; reuse both afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    props = data_dir / "server.properties"
    log_dir = data_dir / "logs"
    if props.exists():
        text = props.read_text()
        if f"PLAINTEXT://127.0.0.1:{port}," not in text:
            raise KafkaLaunchError(
                f"data dir {data_dir} belongs to a broker on another port; "
                f"use --port with its port or pick another --data-dir"
            )
        match = re.search(r"CONTROLLER://127\.0\.0\.1:(\d+)", text)
        controller_port = int(match.group(1)) if match else 0
        if controller_port and port_in_use(controller_port):
            raise KafkaLaunchError(
                f"controller port {controller_port} (recorded in {props}) is taken by "
                "another process; stop it or use a fresh --data-dir"
            )
    else:
        controller_port = free_port()
        props.write_text(server_properties(port, controller_port, log_dir))
    (data_dir / "log4j2.xml").write_text(_LOG4J2)
    if not (log_dir / "meta.properties").exists():
        cluster_id = _cluster_id()
        format_cmd = [java, "-cp", f"{libs}/*", "kafka.tools.StorageTool", "format"]
        result = subprocess.run(
            [*format_cmd, "-t", cluster_id, "-c", str(props), "--standalone", "-g"],
            capture_output=True,
            text=True,
            check=False,
            env=_java_env(data_dir),
        )
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            raise KafkaLaunchError(f"formatting the KRaft log dir failed: {tail}")
    return props


def _cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.

    Never one that starts with "-": the storage tool would read it as an option
    ("--cluster-id expected one argument"), which failed one start in 64. Kafka's own
    ``Uuid.randomUuid`` skips such ids for the same reason.
    """
    import base64

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _java_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["KAFKA_LOG4J_OPTS"] = f"-Dlog4j2.configurationFile={data_dir / 'log4j2.xml'}"
    return env


def start(
    port: int = DEFAULT_PORT,
    data_dir: Path | None = None,
    timeout_s: float = 90.0,
    progress=print,
) -> tuple[BrokerStatus, bool]:
    """Start a broker in the background and wait until an AdminClient answers.

    Returns the status and whether this call started it (False: it was already running).
    Raises KafkaLaunchError with a one-line cause on any failure.
    """
    data_dir = (data_dir or default_data_dir(port)).resolve()
    current = status(port, data_dir)
    if current.running:
        return current, False
    java = find_java()
    if port_in_use(port):
        raise KafkaLaunchError(
            f"port {port} on 127.0.0.1 is taken by another process (not a lagwatch broker "
            f"from {data_dir}); stop it or choose another --port"
        )
    libs = ensure_jars(progress)
    props = _prepare_data_dir(java, libs, port, data_dir)
    log_path = data_dir / "broker.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                java,
                *JVM_FLAGS,
                f"-Dlog4j2.configurationFile={data_dir / 'log4j2.xml'}",
                f"-Dlagwatch.data.dir={data_dir}",
                "-cp",
                f"{libs}/*",
                "kafka.Kafka",
                str(props),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (data_dir / "broker.pid").write_text(f"{proc.pid}\n")
    bootstrap = f"127.0.0.1:{port}"
    try:
        _wait_ready(bootstrap, proc, timeout_s)
    except KafkaLaunchError:
        _terminate(proc.pid, 10.0)
        (data_dir / "broker.pid").unlink(missing_ok=True)
        raise KafkaLaunchError(
            f"broker not up within {timeout_s:.0f}s; last lines of {log_path}:\n"
            + _tail(log_path, 15)
        ) from None
    return BrokerStatus(True, proc.pid, bootstrap, data_dir), True


def _wait_ready(bootstrap: str, proc: subprocess.Popen, timeout_s: float) -> None:
    """An open port is not readiness: wait until the AdminClient lists topics."""
    from confluent_kafka.admin import AdminClient

    deadline = time.monotonic() + timeout_s
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise KafkaLaunchError("broker process exited")
        try:
            admin.list_topics(timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise KafkaLaunchError("deadline")


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(port: int = DEFAULT_PORT, data_dir: Path | None = None, timeout_s: float = 60.0) -> bool:
    """Stop the broker started from this data dir; False if none was running.

    SIGTERM first (a clean controlled shutdown), SIGKILL after the deadline.
    """
    data_dir = (data_dir or default_data_dir(port)).resolve()
    pid = read_pid(data_dir)
    if pid is None:
        (data_dir / "broker.pid").unlink(missing_ok=True)
        return False
    _terminate(pid, timeout_s)
    (data_dir / "broker.pid").unlink(missing_ok=True)
    return True


def _terminate(pid: int, timeout_s: float) -> None:
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our child; otherwise just probe.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
