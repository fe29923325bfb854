#!/usr/bin/env bash
# Builds a tarsnode package around tarsnode-sim, laid out as TARS's own tarsnode.tgz
# (tarsnode/bin, conf, util, data, log), for install_tars_node in tests and demos:
#
#   scripts/build-node-package.sh [--port PORT] SIM_BINARY OUT.tgz
#
# SIM_BINARY is this repository's tarsnode-sim (cargo build -p tarsnode-sim); nothing
# else is packaged. conf/tars.tarsnode.config.conf and util/execute.sh carry the
# placeholders the installer replaces: localip.tars.com (the machine's IP) and
# registryAddress (the registry's endpoints). util/start.sh starts the node in the
# background (pid in data/tarsnode.pid, output in log/), util/stop.sh stops it.
# PORT (default 19385, tarsnode's) is where the node listens on the machine's IP.
set -euo pipefail

port=19385
if [ "${1:-}" = "--port" ]; then
  port="${2:?--port needs a number}"
  shift 2
fi
if [ $# -ne 2 ]; then
  echo "usage: $0 [--port PORT] SIM_BINARY OUT.tgz" >&2
  exit 2
fi
sim="$1"
out="$2"
case "$port" in
  '' | *[!0-9]*) echo "$0: --port must be a number, got $port" >&2; exit 2 ;;
esac
if [ ! -x "$sim" ]; then
  echo "$0: $sim is not an executable (build it: cargo build -p tarsnode-sim)" >&2
  exit 2
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
node="$staging/tarsnode"
mkdir -p "$node/bin" "$node/conf" "$node/util" "$node/data" "$node/log"
cp "$sim" "$node/bin/tarsnode-sim"
# Debug information is most of a debug build's size; the package does not need it.
if command -v strip >/dev/null 2>&1; then
  strip --strip-debug "$node/bin/tarsnode-sim" 2>/dev/null || true
fi

cat >"$node/conf/tars.tarsnode.config.conf" <<CONF
<tars>
  <application>
    enableset=n
    setdivision=NULL
    <client>
      locator=tars.tarsregistry.QueryObj@registryAddress
      sync-invoke-timeout=6000
      async-invoke-timeout=60000
      modulename=tars.tarsnode
    </client>
    <server>
      app=tars
      server=tarsnode
      localip=localip.tars.com
      <NodeAdapter>
        endpoint=tcp -h localip.tars.com -p $port -t 60000
        allow
        maxconns=1024
        servant=tars.tarsnode.NodeObj
      </NodeAdapter>
    </server>
  </application>
</tars>
CONF

cat >"$node/util/start.sh" <<'START'
#!/bin/sh
# Starts this tarsnode in the background unless it runs already.
home="$(cd "$(dirname "$0")/.." && pwd)"
pidfile="$home/data/tarsnode.pid"
alive() {
  kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"
}
if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
  echo "tarsnode already running (pid $(cat "$pidfile"))"
  exit 0
fi
mkdir -p "$home/data" "$home/log"
nohup "$home/bin/tarsnode-sim" --config "$home/conf/tars.tarsnode.config.conf" \
  --log "$home/log/calls.jsonl" >>"$home/log/tarsnode.log" 2>&1 </dev/null &
echo $! >"$pidfile"
echo "tarsnode started (pid $!)"
START

cat >"$node/util/stop.sh" <<'STOP'
#!/bin/sh
# Stops this tarsnode (SIGTERM, then SIGKILL after 10 s).
home="$(cd "$(dirname "$0")/.." && pwd)"
pidfile="$home/data/tarsnode.pid"
alive() {
  kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"
}
if [ ! -f "$pidfile" ]; then
  echo "tarsnode is not running (no $pidfile)"
  exit 0
fi
pid="$(cat "$pidfile")"
if alive "$pid"; then
  kill -TERM "$pid"
  waited=0
  while alive "$pid"; do
    if [ "$waited" -ge 100 ]; then
      kill -KILL "$pid"
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
fi
rm -f "$pidfile"
echo "tarsnode stopped (pid $pid)"
STOP

cat >"$node/util/execute.sh" <<'EXECUTE'
#!/bin/sh
# Keeps this tarsnode up (run it from cron, as TARS runs tarsnode's execute.sh).
node_ip=localip.tars.com
locator='tars.tarsregistry.QueryObj@registryAddress'
echo "tarsnode on $node_ip, registry $locator"
exec "$(cd "$(dirname "$0")" && pwd)/start.sh"
EXECUTE

chmod 755 "$node/util/"*.sh "$node/bin/tarsnode-sim"
mkdir -p "$(dirname "$out")"
tar -C "$staging" -czf "$out.part" tarsnode
mv "$out.part" "$out"
echo "built $out ($(du -k "$out" | cut -f1) KiB): tarsnode-sim on port $port"
