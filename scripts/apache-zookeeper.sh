#!/usr/bin/env bash
# Starts or stops Apache ZooKeeper 3.8 from Debian's `zookeeper` package, standalone or as a local
# ensemble, for the conformance tests and benchmarks that compare against it.
#
#   scripts/apache-zookeeper.sh start PORT DIR            # standalone: writes DIR/zoo.cfg, starts, waits for `ruok`
#   scripts/apache-zookeeper.sh stop DIR
#   scripts/apache-zookeeper.sh start-ensemble N BASE_PORT DIR [TICK_MS]
#       # N servers in DIR/s1..DIR/sN (zoo.cfg, data/myid, pid, zookeeper.log); server K listens
#       # for clients on BASE_PORT+K-1, for quorum traffic on BASE_PORT+100+K-1 and for
#       # elections on BASE_PORT+200+K-1; waits until every server answers `srvr` as leader or
#       # follower, then prints the connect string
#   scripts/apache-zookeeper.sh start-member DIR K        # (re)starts server K of that ensemble
#   scripts/apache-zookeeper.sh kill-member DIR K         # kill -9 of server K
#   scripts/apache-zookeeper.sh stop-ensemble DIR
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
require_installed() {
  [[ -f $java_dir/zookeeper.jar ]] || { echo "Apache ZooKeeper is not installed: apt-get install zookeeper zookeeper-bin" >&2; exit 1; }
}
# four_letter PORT WORD: the server's answer (empty when nothing answers).
four_letter() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf '%s' "$2" >&3 && timeout 5 cat <&3) 2>/dev/null || true
}
write_log4j() {
  cat > "$1/log4j.properties" <<'CFG'
log4j.rootLogger=WARN, F
log4j.appender.F=org.apache.log4j.FileAppender
log4j.appender.F.File=${zk.log.file}
log4j.appender.F.layout=org.apache.log4j.PatternLayout
log4j.appender.F.layout.ConversionPattern=%d %p [%t] %c{1}: %m%n
CFG
}
# launch DIR: starts QuorumPeerMain on DIR/zoo.cfg, writes DIR/pid.
launch() {
  local dir=$1
  nohup java -Xmx1g -Dzookeeper.extendedTypesEnabled=true -Dzk.log.file="$dir/zookeeper.log" \
    -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$(classpath)" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" > "$dir/stdout.log" 2>&1 &
  echo $! > "$dir/pid"
}
# stop_dir DIR [SIGNAL]: signals (TERM by default) the server whose pid DIR/pid holds.
stop_dir() {
  local dir=$1 signal=${2:-TERM}
  if [[ -f $dir/pid ]]; then kill -s "$signal" "$(cat "$dir/pid")" 2>/dev/null || true; rm -f "$dir/pid"; fi
}
# wait_member DIR PORT: waits until the server answers `srvr` with a leader or follower mode.
wait_member() {
  local dir=$1 port=$2
  for _ in $(seq 1 240); do
    if four_letter "$port" srvr | grep -Eq '^Mode: (leader|follower|observer)'; then return 0; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "Apache ZooKeeper in $dir died:" >&2; cat "$dir/stdout.log" >&2; return 1; }
    sleep 0.5
  done
  echo "Apache ZooKeeper in $dir did not join a quorum on port $port" >&2; return 1
}
case "${1:-}" in
  start)
    port=${2:?port}; dir=$(realpath -m "${3:?dir}")
    require_installed
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
    write_log4j "$dir"
    launch "$dir"
    for _ in $(seq 1 120); do
      if [[ $(four_letter "$port" ruok) == imok ]]; then
        echo "Apache ZooKeeper on 127.0.0.1:$port (pid $(cat "$dir/pid"))"; exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "Apache ZooKeeper died:" >&2; cat "$dir/stdout.log" >&2; exit 1; }
      sleep 0.5
    done
    echo "Apache ZooKeeper did not answer ruok on port $port" >&2; exit 1 ;;
  stop)
    stop_dir "$(realpath -m "${2:?dir}")" ;;
  start-ensemble)
    size=${2:?size}; base=${3:?base port}; dir=$(realpath -m "${4:?dir}"); tick=${5:-2000}
    require_installed
    servers=""; connect=""
    for k in $(seq 1 "$size"); do
      servers+="server.$k=127.0.0.1:$((base + 100 + k - 1)):$((base + 200 + k - 1));127.0.0.1:$((base + k - 1))"$'\n'
      connect+="${connect:+,}127.0.0.1:$((base + k - 1))"
    done
    for k in $(seq 1 "$size"); do
      member="$dir/s$k"
      stop_dir "$member"
      rm -rf "$member"; mkdir -p "$member/data"
      echo "$k" > "$member/data/myid"
      cat > "$member/zoo.cfg" <<CFG
tickTime=$tick
initLimit=10
syncLimit=5
dataDir=$member/data
clientPort=$((base + k - 1))
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
$servers
CFG
      write_log4j "$member"
      launch "$member"
    done
    for k in $(seq 1 "$size"); do
      wait_member "$dir/s$k" $((base + k - 1)) || exit 1
    done
    echo "Apache ZooKeeper ensemble of $size: $connect" ;;
  start-member)
    dir=$(realpath -m "${2:?dir}"); k=${3:?member}
    member="$dir/s$k"
    [[ -f $member/zoo.cfg ]] || { echo "no ensemble member in $member" >&2; exit 1; }
    stop_dir "$member"
    launch "$member"
    echo "Apache ZooKeeper server $k restarted (pid $(cat "$member/pid"))" ;;
  kill-member)
    dir=$(realpath -m "${2:?dir}"); k=${3:?member}
    stop_dir "$dir/s$k" KILL ;;
  stop-ensemble)
    dir=$(realpath -m "${2:?dir}")
    for member in "$dir"/s*; do [[ -d $member ]] && stop_dir "$member"; done ;;
  *) echo "usage: $0 start PORT DIR | stop DIR | start-ensemble N BASE_PORT DIR [TICK_MS] | start-member DIR K | kill-member DIR K | stop-ensemble DIR" >&2; exit 2 ;;
esac
