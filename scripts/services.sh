# Starts the servers the tests talk to, each on a free loopback port in a private folder, and
# stops them on exit. Sourced by scripts/test.sh; installs what is missing with apt-get.
# Exports TESTMESH_TEST_DATABASE_URL, TESTMESH_TEST_REDIS_URL, TESTMESH_TEST_MYSQL_URL (MariaDB) and
# TESTMESH_TEST_NATS_URL (NATS with JetStream), TESTMESH_TEST_AMQP_URL (RabbitMQ) and
# TESTMESH_TEST_PROMETHEUS_URL (Prometheus scraping scripts/metrics_target.py, whose URL is
# TESTMESH_TEST_METRICS_TARGET_URL) and TESTMESH_TEST_S3_URL (moto's S3 server from PyPI, with
# a bucket TESTMESH_TEST_S3_BUCKET and the keys TESTMESH_TEST_S3_ACCESS_KEY and
# TESTMESH_TEST_S3_SECRET_KEY); all but the first two are left unset, and the tests that need
# them skipped, when the server cannot be installed or started.

services_dir=""
pg_bin=""
pg_data=""
redis_pidfile=""
mariadb_pidfile=""
nats_pidfile=""
rabbitmq_pidfile=""
rabbitmq_port=""
prometheus_pid=""
metrics_target_pid=""
moto_pid=""

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
  command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      echo "could not install every package; tests needing a missing server will be skipped"
  fi
}

start_postgres() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  pg_data="$services_dir/pg"
  mkdir -p "$pg_data"
  [ "$(id -u)" = "0" ] && chown postgres "$services_dir" "$pg_data"
  as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 >/dev/null
  local port
  port=$(free_port)
  as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_data -c fsync=off -c max_connections=200" start >/dev/null
  export TESTMESH_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL on 127.0.0.1:$port"
}

start_redis() {
  local port dir
  port=$(free_port)
  dir="$services_dir/redis"
  mkdir -p "$dir"
  redis_pidfile="$dir/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$redis_pidfile" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export TESTMESH_TEST_REDIS_URL="redis://127.0.0.1:$port/"
  echo "Redis on 127.0.0.1:$port"
}

# MariaDB in its own datadir, reachable over TCP as testmesh (no password) with every right.
start_mariadb() {
  local mariadbd=/usr/sbin/mariadbd
  [ -x "$mariadbd" ] || mariadbd=$(command -v mariadbd || true)
  if [ -z "$mariadbd" ] || ! command -v mariadb-install-db >/dev/null 2>&1; then
    echo "MariaDB not available: tests that need it will be skipped"
    return 0
  fi
  local dir port user_args=()
  dir="$services_dir/mariadb"
  mkdir -p "$dir/data"
  if [ "$(id -u)" = "0" ]; then
    chown -R mysql "$dir"
    user_args=(--user=mysql)
  fi
  if ! mariadb-install-db --datadir="$dir/data" "${user_args[@]}" --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/install.log" 2>&1; then
    echo "mariadb-install-db failed (see $dir/install.log): tests that need MariaDB will be skipped"
    return 0
  fi
  port=$(free_port)
  cat >"$dir/init.sql" <<'SQL'
CREATE USER IF NOT EXISTS 'testmesh'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'testmesh'@'%' WITH GRANT OPTION;
SQL
  [ "$(id -u)" = "0" ] && chown mysql "$dir/init.sql"
  mariadb_pidfile="$dir/mariadb.pid"
  "$mariadbd" --no-defaults --datadir="$dir/data" "${user_args[@]}" --bind-address=127.0.0.1 \
    --port="$port" --socket="$dir/mariadb.sock" --pid-file="$mariadb_pidfile" \
    --init-file="$dir/init.sql" --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
    --log-error="$dir/error.log" >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null; then
      export TESTMESH_TEST_MYSQL_URL="mysql://testmesh@127.0.0.1:$port/mysql"
      echo "MariaDB on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "MariaDB did not start (see $dir/error.log): tests that need it will be skipped"
}

# NATS with JetStream, its store in the services folder.
start_nats() {
  if ! command -v nats-server >/dev/null 2>&1; then
    echo "nats-server not available: tests that need NATS will be skipped"
    return 0
  fi
  local dir port
  dir="$services_dir/nats"
  mkdir -p "$dir"
  port=$(free_port)
  nats_pidfile="$dir/nats.pid"
  nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/store" -P "$nats_pidfile" -l "$dir/nats.log" &
  for _ in $(seq 1 50); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null; then
      export TESTMESH_TEST_NATS_URL="nats://127.0.0.1:$port"
      echo "NATS on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "NATS did not start (see $dir/nats.log): tests that need it will be skipped"
}

# RabbitMQ: a node of its own (name, ports, data and logs in the services folder). It takes
# some seconds to boot, so it starts first and is waited for last.
start_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "rabbitmq-server not available: tests that need AMQP will be skipped"
    return 0
  fi
  local dir
  dir="$services_dir/rabbitmq"
  mkdir -p "$dir"
  # As root, rabbitmq-server runs itself as the rabbitmq user, which must own its folder.
  [ "$(id -u)" = "0" ] && id rabbitmq >/dev/null 2>&1 && chown rabbitmq "$dir"
  rabbitmq_port=$(free_port)
  rabbitmq_pidfile="$dir/rabbitmq.pid"
  HOME="$dir" RABBITMQ_NODENAME="testmesh$rabbitmq_port@localhost" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$rabbitmq_port" \
    RABBITMQ_DIST_PORT="$(free_port)" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_PID_FILE="$rabbitmq_pidfile" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/plugins" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" ERL_CRASH_DUMP="$dir/erl_crash.dump" \
    rabbitmq-server >"$dir/server.log" 2>&1 &
}

wait_rabbitmq() {
  [ -n "$rabbitmq_port" ] || return 0
  for _ in $(seq 1 240); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $rabbitmq_port), 0.2).close()" 2>/dev/null; then
      export TESTMESH_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$rabbitmq_port/%2f"
      echo "RabbitMQ on 127.0.0.1:$rabbitmq_port"
      return 0
    fi
    sleep 0.25
  done
  echo "RabbitMQ did not start within 60s (see $services_dir/rabbitmq): tests that need it will be skipped"
}

# Prometheus scraping a small service of ours every second (scripts/metrics_target.py): flows
# count orders on the service and see the counter through Prometheus's query API.
start_prometheus() {
  if ! command -v prometheus >/dev/null 2>&1; then
    echo "prometheus not available: tests that need it will be skipped"
    return 0
  fi
  local dir port target_port
  dir="$services_dir/prometheus"
  mkdir -p "$dir"
  target_port=$(free_port)
  python3 "$(dirname "${BASH_SOURCE[0]}")/metrics_target.py" "$target_port" &
  metrics_target_pid=$!
  cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: orders
    static_configs:
      - targets: ['127.0.0.1:$target_port']
YAML
  port=$(free_port)
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" >"$dir/prometheus.log" 2>&1 &
  prometheus_pid=$!
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/-/ready', timeout=0.5)" 2>/dev/null; then
      export TESTMESH_TEST_PROMETHEUS_URL="http://127.0.0.1:$port"
      export TESTMESH_TEST_METRICS_TARGET_URL="http://127.0.0.1:$target_port"
      echo "Prometheus on 127.0.0.1:$port, scraping 127.0.0.1:$target_port"
      return 0
    fi
    sleep 0.1
  done
  echo "Prometheus did not start (see $dir/prometheus.log): tests that need it will be skipped"
}

# moto's S3 server (PyPI `moto[server]`, in a virtualenv kept in ~/.cache/testmesh between runs)
# with a bucket and an IAM user's keys; moto then checks credentials as S3 does.
start_moto() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/testmesh/moto-venv" dir port keys
  if [ ! -x "$venv/bin/moto_server" ]; then
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'; } >/dev/null 2>&1; then
      echo "moto[server] could not be installed: tests that need S3 will be skipped"
      return 0
    fi
  fi
  dir="$services_dir/moto"
  mkdir -p "$dir"
  port=$(free_port)
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null; then
      if keys=$("$venv/bin/python" "$(dirname "${BASH_SOURCE[0]}")/moto_setup.py" "http://127.0.0.1:$port" testmesh 2>>"$dir/moto.log"); then
        export TESTMESH_TEST_S3_URL="http://127.0.0.1:$port"
        export TESTMESH_TEST_S3_BUCKET=testmesh
        export TESTMESH_TEST_S3_ACCESS_KEY="${keys%% *}"
        export TESTMESH_TEST_S3_SECRET_KEY="${keys#* }"
        echo "moto S3 on 127.0.0.1:$port"
        return 0
      fi
      break
    fi
    sleep 0.1
  done
  echo "moto did not start (see $dir/moto.log): tests that need S3 will be skipped"
}

stop_services() {
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$redis_pidfile" ] && [ -f "$redis_pidfile" ]; then
    kill "$(cat "$redis_pidfile")" 2>/dev/null || true
  fi
  if [ -n "$rabbitmq_pidfile" ] && [ -f "$rabbitmq_pidfile" ]; then
    local rabbit
    rabbit=$(cat "$rabbitmq_pidfile")
    kill "$rabbit" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$rabbit" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -n "$nats_pidfile" ] && [ -f "$nats_pidfile" ]; then
    kill "$(cat "$nats_pidfile")" 2>/dev/null || true
  fi
  if [ -n "$mariadb_pidfile" ] && [ -f "$mariadb_pidfile" ]; then
    local pid
    pid=$(cat "$mariadb_pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -n "$prometheus_pid" ]; then kill "$prometheus_pid" 2>/dev/null || true; fi
  if [ -n "$metrics_target_pid" ]; then kill "$metrics_target_pid" 2>/dev/null || true; fi
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; fi
  [ -n "$services_dir" ] && rm -rf "$services_dir"
}

start_services() {
  services_dir=$(mktemp -d /tmp/testmesh-services.XXXXXX)
  chmod 755 "$services_dir"
  ensure_packages
  start_rabbitmq
  start_postgres
  start_redis
  start_mariadb
  start_nats
  start_prometheus
  start_moto
  wait_rabbitmq
}
