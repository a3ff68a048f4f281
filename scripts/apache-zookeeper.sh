#!/usr/bin/env bash
# Starts or stops a standalone Apache ZooKeeper 3.8 from Debian's `zookeeper` package, for the
# conformance tests and benchmarks that compare against it.
#
#   scripts/apache-zookeeper.sh start PORT DIR   # writes DIR/zoo.cfg, starts, waits for `ruok`
#   scripts/apache-zookeeper.sh stop DIR
#
# Debian's own launcher lacks netty-codec on its class path, so the class path is built here.
set -euo pipefail
java_dir=/usr/share/java
classpath() {
  local jars=(zookeeper zookeeper-jute netty-codec netty-resolver netty-transport-native-unix-common
    netty-transport netty-transport-native-epoll netty-buffer netty-common netty-handler
    slf4j-api slf4j-log4j12 log4j-1.2)
  local cp="" jar
  for jar in "${jars[@]}"; do cp+="${cp:+:}$java_dir/$jar.jar"; done
  echo "$cp"
}
case "${1:-}" in
  start)
    port=${2:?port}; dir=$(realpath -m "${3:?dir}")
    [[ -f $java_dir/zookeeper.jar ]] || { echo "Apache ZooKeeper is not installed: apt-get install zookeeper zookeeper-bin" >&2; exit 1; }
    mkdir -p "$dir/data"
    cat > "$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
CFG
    cat > "$dir/log4j.properties" <<'CFG'
log4j.rootLogger=WARN, F
log4j.appender.F=org.apache.log4j.FileAppender
log4j.appender.F.File=${zk.log.file}
log4j.appender.F.layout=org.apache.log4j.PatternLayout
log4j.appender.F.layout.ConversionPattern=%d %p [%t] %c{1}: %m%n
CFG
    nohup java -Xmx1g -Dzookeeper.extendedTypesEnabled=true -Dzk.log.file="$dir/zookeeper.log" \
      -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$(classpath)" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" > "$dir/stdout.log" 2>&1 &
    echo $! > "$dir/pid"
    for _ in $(seq 1 120); do
      if [[ $(exec 3<>/dev/tcp/127.0.0.1/$port && printf ruok >&3 && cat <&3) == imok ]] 2>/dev/null; then
        echo "Apache ZooKeeper on 127.0.0.1:$port (pid $(cat "$dir/pid"))"; exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "Apache ZooKeeper died:" >&2; cat "$dir/stdout.log" >&2; exit 1; }
      sleep 0.5
    done
    echo "Apache ZooKeeper did not answer ruok on port $port" >&2; exit 1 ;;
  stop)
    dir=$(realpath -m "${2:?dir}")
    if [[ -f $dir/pid ]]; then kill "$(cat "$dir/pid")" 2>/dev/null || true; rm -f "$dir/pid"; fi ;;
  *) echo "usage: $0 start PORT DIR | stop DIR" >&2; exit 2 ;;
esac
