#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker and controller in one JVM) on loopback, from the
# jars that pom.xml resolves from Maven Central; no Docker. Used by tests, .ci/run and the local
# services shape.
#
#   infra/kafka/run.sh start    resolve jars (once), format storage (once), start, wait until ready
#   infra/kafka/run.sh stop     stop cleanly (SIGTERM, SIGKILL after 30 s)
#   infra/kafka/run.sh status   exit 0 when running and answering metadata requests
#   infra/kafka/run.sh logs     last lines of the broker log (`logs -f` to follow)
#
# Environment (all optional):
#   ORDERSTREAM_KAFKA_HOME             cache folder: jars, and the broker's config, data, logs
#                                      (default ~/.cache/orderstream-kafka, outside the repository)
#   ORDERSTREAM_KAFKA_INSTANCE_DIR     folder of one broker: config, data, logs, pid (default: the
#                                      cache folder). Another folder and other ports run a second
#                                      broker beside the first on the same jars; every command
#                                      acts on the broker of this folder only.
#   ORDERSTREAM_KAFKA_PORT             client port (default 19092)
#   ORDERSTREAM_KAFKA_CONTROLLER_PORT  controller port (default 19093)
#   ORDERSTREAM_KAFKA_HEAP             JVM heap options (default -Xms256m -Xmx512m)
#   ORDERSTREAM_KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
set -euo pipefail

readonly script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly kafka_home=${ORDERSTREAM_KAFKA_HOME:-${HOME:?HOME must be set}/.cache/orderstream-kafka}
readonly port=${ORDERSTREAM_KAFKA_PORT:-19092}
readonly controller_port=${ORDERSTREAM_KAFKA_CONTROLLER_PORT:-19093}
readonly heap=${ORDERSTREAM_KAFKA_HEAP:--Xms256m -Xmx512m}
readonly start_timeout=${ORDERSTREAM_KAFKA_START_TIMEOUT:-90}
readonly instance=${ORDERSTREAM_KAFKA_INSTANCE_DIR:-$kafka_home}
readonly libs=$kafka_home/libs
readonly data=$instance/data
readonly logs=$instance/logs
readonly config=$instance/server.properties
readonly pid_file=$instance/kafka.pid
readonly bootstrap=127.0.0.1:$port

log() { printf 'kafka: %s\n' "$*"; }
fail() { printf 'kafka: %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid of the broker this cache folder started, when it is still alive and is that broker.
running_pid() {
  [[ -f $pid_file ]] || return 1
  local pid
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "kafka.Kafka $config" || return 1
  echo "$pid"
}

# A metadata request that needs a broker and a controller, not only an open port.
# Asks repeatedly for up to $1 seconds (default 5) in one JVM.
metadata_ready() {
  ensure_probe
  java -XX:TieredStopAtLevel=1 -cp "$kafka_home/probe:$libs/*" \
    -Dlog4j2.configurationFile="$instance/log4j2-tools.properties" BrokerReady "$bootstrap" "${1:-5}"
}

# Runs a command holding the cache folder's lock: brokers of several instance folders share the
# jars and the probe, and must not rebuild them under each other.
with_cache_lock() {
  mkdir -p "$kafka_home"
  (
    flock 8
    "$@"
  ) 8>"$kafka_home/.cache.lock"
}

# Compiles BrokerReady.java once (a single-file launch would recompile it on every poll).
ensure_probe() {
  probe_current && return 0
  with_cache_lock compile_probe
}

probe_current() {
  local source_hash
  source_hash=$(sha256sum "$script_dir/BrokerReady.java" | cut -d' ' -f1)
  [[ -f $kafka_home/probe/.sha256 && $(<"$kafka_home/probe/.sha256") == "$source_hash" ]]
}

compile_probe() {
  probe_current && return 0
  local source_hash
  source_hash=$(sha256sum "$script_dir/BrokerReady.java" | cut -d' ' -f1)
  rm -rf "$kafka_home/probe"
  mkdir -p "$kafka_home/probe"
  javac -nowarn -cp "$libs/*" -d "$kafka_home/probe" "$script_dir/BrokerReady.java"
  echo "$source_hash" >"$kafka_home/probe/.sha256"
}

# Resolves the jars into $libs unless the same pom.xml resolved them before.
ensure_libs() {
  local pom_hash
  pom_hash=$(sha256sum "$script_dir/pom.xml" | cut -d' ' -f1)
  if [[ -f $libs/.pom-sha256 && $(<"$libs/.pom-sha256") == "$pom_hash" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || fail 'mvn not found: install Maven (apt-get install maven) and Java 17+'
  log "resolving Kafka jars from Maven Central into $libs"
  local started=$SECONDS
  rm -rf "$libs.tmp"
  mkdir -p "$kafka_home"
  if ! mvn -q -B -Dstyle.color=never -f "$script_dir/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >"$kafka_home/mvn.log" 2>&1; then
    cat "$kafka_home/mvn.log" >&2
    fail "could not resolve the jars (Maven output above, also in $kafka_home/mvn.log)"
  fi
  echo "$pom_hash" >"$libs.tmp/.pom-sha256"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  log "resolved $(find "$libs" -name '*.jar' | wc -l) jars in $((SECONDS - started))s"
}

write_config() {
  mkdir -p "$data" "$logs"
  cat >"$config" <<PROPERTIES
# Written by infra/kafka/run.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data
# Topics are created by the application with their partition count, never by accident.
auto.create.topics.enable=false
num.partitions=1
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join and leave groups constantly: do not wait for more members.
group.initial.rebalance.delay.ms=0
log.retention.hours=24
PROPERTIES
  cat >"$instance/log4j2.properties" <<PROPERTIES
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $logs/server.log
appender.file.filePattern = $logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka-request.name = kafka.request.logger
logger.kafka-request.level = warn
PROPERTIES
  cat >"$instance/log4j2-tools.properties" <<PROPERTIES
status = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %m (%c)%n
rootLogger.level = error
rootLogger.appenderRef.console.ref = console
PROPERTIES
}

# Formats the data folder once (the `kafka-storage format --standalone` of the distribution). The
# controller's address is recorded in the data, so other ports mean a fresh (test-only) data folder.
ensure_formatted() {
  local layout="$port $controller_port"
  if [[ -f $data/meta.properties ]]; then
    [[ -f $instance/data.layout && $(<"$instance/data.layout") == "$layout" ]] && return 0
    log "ports changed to $layout; discarding the old data in $data"
    rm -rf "$data"
    mkdir -p "$data"
  fi
  local cluster_id
  cluster_id=$(java -cp "$libs/*" -Dlog4j2.configurationFile="$instance/log4j2-tools.properties" \
    kafka.tools.StorageTool random-uuid)
  log "formatting $data (cluster $cluster_id)"
  java -cp "$libs/*" -Dlog4j2.configurationFile="$instance/log4j2-tools.properties" \
    kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$config"
  echo "$layout" >"$instance/data.layout"
}

start() {
  mkdir -p "$instance"
  exec 9>"$instance/.lock"
  flock 9
  if pid=$(running_pid); then
    log "already running (pid $pid) on $bootstrap"
    wait_ready "$pid"
    return
  fi
  rm -f "$pid_file"
  if port_open "$port" || port_open "$controller_port"; then
    fail "port $port or $controller_port is taken by another process; set ORDERSTREAM_KAFKA_PORT / ORDERSTREAM_KAFKA_CONTROLLER_PORT"
  fi
  command -v java >/dev/null || fail 'java not found: install Java 17+'
  with_cache_lock ensure_libs
  write_config
  ensure_formatted
  local started=$SECONDS
  # Its own session, so a Ctrl-C in the shell that started it does not reach the broker.
  # shellcheck disable=SC2086 # heap holds several options
  setsid nohup java $heap -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$instance/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$config" >"$logs/stdout.log" 2>&1 </dev/null 9>&- &
  local pid=$!
  echo "$pid" >"$pid_file"
  log "starting (pid $pid) on $bootstrap, data in $data"
  wait_ready "$pid"
  log "ready on $bootstrap after $((SECONDS - started))s"
}

# Polls the port, then asks for cluster metadata; fails if the broker dies meanwhile.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + start_timeout))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$logs/stdout.log" "$logs/server.log" >&2 2>/dev/null; fail 'broker exited during start-up (log above)'; }
    if port_open "$port" && metadata_ready 10 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  tail -n 40 "$logs/server.log" >&2 2>/dev/null || true
  fail "broker not ready within ${start_timeout}s (log above; $logs)"
}

stop() {
  mkdir -p "$instance"
  exec 9>"$instance/.lock"
  flock 9
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    log 'not running'
    return 0
  fi
  log "stopping (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; log 'stopped'; return 0; }
    sleep 0.5
  done
  log 'still running after 30 s; killing'
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

status() {
  local pid
  if ! pid=$(running_pid); then
    log 'not running'
    return 1
  fi
  if metadata_ready; then
    log "running (pid $pid) on $bootstrap"
  else
    log "process $pid is up but does not answer metadata requests on $bootstrap"
    return 1
  fi
}

logs() {
  [[ -f $logs/server.log ]] || fail "no log yet at $logs/server.log"
  if [[ ${1:-} == -f ]]; then
    tail -n 100 -F "$logs/server.log"
  else
    tail -n 100 "$logs/server.log"
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) shift; logs "$@" ;;
  *) echo "usage: $0 start|stop|status|logs [-f]" >&2; exit 2 ;;
esac
