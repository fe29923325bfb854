#!/usr/bin/env bash
# Runs the whole test suite: unit tests of every crate and the end-to-end tests, which
# start the real binaries against SQLite and the local MariaDB (127.0.0.1:3306, root,
# no password; override with TARS_TEST_MYSQL_URL=mysql://user:pass@host:port).
set -euo pipefail
cd "$(dirname "$0")/.."

mysql_url="${TARS_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
export TARS_TEST_MYSQL_URL="$mysql_url"

# MariaDB is started by this machine kind before sessions and CI; start it if it is not.
if ! mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root status >/dev/null 2>&1; then
  if [ -x /usr/sbin/mariadbd ]; then
    echo "test.sh: MariaDB is not answering; starting it" >&2
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 60); do
      mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root status >/dev/null 2>&1 && break
      sleep 1
    done
  fi
fi

# The Kafka tests run against Tansu, a Kafka-wire-compatible broker, started by the tests
# themselves; install it once per machine (about 13 minutes).
if ! tansu --version >/dev/null 2>&1 && ! "$HOME/.cargo/bin/tansu" --version >/dev/null 2>&1; then
  echo "test.sh: installing the Tansu broker for the Kafka tests (once per machine)" >&2
  cargo install tansu --version 0.6.0 --features dynostore,libsql,postgres --locked
fi

# The package tests upload with a real curl, as CI pipelines do.
if ! command -v curl >/dev/null 2>&1; then
  echo "test.sh: installing curl for the package upload tests" >&2
  apt-get update -qq && apt-get install -y -qq curl
fi

# The resource tests install tarsnode over SSH into a real OpenSSH server, which the tests
# start on loopback with their own host and user keys (no system sshd is configured).
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null 2>&1; then
  echo "test.sh: installing openssh-server for the resource (install_tars_node) tests" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-client
fi

# The fleet test puts Debian's nginx in front of two gateways (started by the test on a
# loopback port with its own configuration; no system nginx is configured or started).
if [ ! -x /usr/sbin/nginx ]; then
  echo "test.sh: installing nginx for the fleet (load balancer) test" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx
fi

# The end-to-end tests spawn every service binary, so build them all first.
cargo build --workspace --bins
cargo test --workspace --no-fail-fast
