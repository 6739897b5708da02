# Starts the servers the tests talk to, each on a free loopback port in a private folder, and
# stops them on exit. Sourced by scripts/test.sh; installs what is missing with apt-get.
# Exports TESTMESH_TEST_DATABASE_URL and TESTMESH_TEST_REDIS_URL.

services_dir=""
pg_bin=""
pg_data=""
redis_pidfile=""

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
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
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

stop_services() {
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$redis_pidfile" ] && [ -f "$redis_pidfile" ]; then
    kill "$(cat "$redis_pidfile")" 2>/dev/null || true
  fi
  [ -n "$services_dir" ] && rm -rf "$services_dir"
}

start_services() {
  services_dir=$(mktemp -d /tmp/testmesh-services.XXXXXX)
  chmod 755 "$services_dir"
  ensure_packages
  start_postgres
  start_redis
}
