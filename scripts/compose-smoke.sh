#!/usr/bin/env bash
# `docker compose up`, for real (issue 16): brings the whole stack up from docker-compose.yml and the
# Dockerfile as they are, with podman serving the Docker API to docker-compose, and checks what a user
# sees. Runs on a clean Debian bookworm machine as root (installs podman, docker-compose, debootstrap
# and runc from Debian when missing); base images no registry serves are built locally
# (scripts/compose/base-images.sh, cached between runs). Exit status 0 only when every check passed;
# containers, networks, volumes, the API socket and the health-check loop are removed in every case.
#
# One run at a time per machine (a lock in the cache directory); what a killed run left is removed.
#
# Settings (environment): KIKIMIMI_SMOKE_PORT (console's published port, default 13000: the host's
# own kikimimi keeps 3000), KIKIMIMI_COMPOSE_CACHE (base-image cache, default ~/.cache/kikimimi-compose).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

started=$(date +%s)
project=kikimimi-smoke
port=${KIKIMIMI_SMOKE_PORT:-13000}
say() { echo "compose-smoke: [$(($(date +%s) - started))s] $*"; }
fail() {
  echo "compose-smoke: FAILED: $*" >&2
  exit 1
}

# --- Tools from Debian -------------------------------------------------------------------------------
missing=()
[ "$(id -u)" = 0 ] || fail 'run it as root: it installs Debian packages and podman runs the containers as root'
command -v podman >/dev/null || missing+=(podman)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v runc >/dev/null || missing+=(runc)
# curl asks the API socket and the console; pgrep (procps) finds conmon monitors left behind (without
# it that check would find nothing and pass).
command -v curl >/dev/null || missing+=(curl)
command -v pgrep >/dev/null || missing+=(procps)
# Container names on a compose network are resolved by CNI's dnsname plugin.
[ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
# The checks are TypeScript run by the host's Node (scripts/compose/*.ts), as everything in the repo.
[ "$(node -p 'Number(process.versions.node.split(".")[0]) >= 24' 2>/dev/null)" = true ] ||
  fail "Node 24 is needed on the PATH for the checks (found: $(node --version 2>/dev/null || echo none))"

export CONTAINERS_CONF="$root/scripts/compose/containers.conf"
cache=${KIKIMIMI_COMPOSE_CACHE:-$HOME/.cache/kikimimi-compose}
mkdir -p "$cache"
exec 9>"$cache/smoke.lock"
flock -w 1800 9 || fail "another compose smoke has held $cache/smoke.lock for 30 minutes"
work=$(mktemp -d /tmp/kikimimi-compose-smoke.XXXXXX)
sock="$work/podman.sock"
export DOCKER_HOST="unix://$sock"
service_pid=''
health_pid=''

compose() {
  docker-compose --project-name "$project" --project-directory "$root" -f "$root/docker-compose.yml" \
    --env-file "$work/test.env" "$@"
}
# The project's containers, networks and volumes that exist (empty when nothing is left).
leftovers() {
  podman ps -a --filter "label=com.docker.compose.project=$project" --format 'container {{.Names}}'
  podman network ls --format '{{.Name}}' | grep "^${project}_" | sed 's/^/network /' || true
  podman volume ls --format '{{.Name}}' | grep "^${project}_" | sed 's/^/volume /' || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  if [ "$status" -ne 0 ] && [ -S "$sock" ]; then
    say 'state at the failure:'
    compose ps 2>&1
    for service in migrate worker web; do
      echo "--- last log lines of $service"
      compose logs --no-color --tail=15 "$service" 2>&1 | tail -n 15
    done
    echo '--- last lines of podman system service'
    tail -n 10 "$work/podman-service.log"
  fi
  [ -S "$sock" ] && timeout 120 docker-compose --project-name "$project" --project-directory "$root" \
    -f "$root/docker-compose.yml" --env-file "$work/test.env" down -v --remove-orphans >/dev/null 2>&1
  # Whatever compose could not remove (the API service gone, a timeout), podman removes directly.
  podman ps -a -q --filter "label=com.docker.compose.project=$project" | xargs -r podman rm -f >/dev/null 2>&1
  podman network ls --format '{{.Name}}' | grep "^${project}_" | xargs -r podman network rm -f >/dev/null 2>&1
  podman volume ls --format '{{.Name}}' | grep "^${project}_" | xargs -r podman volume rm -f >/dev/null 2>&1
  [ -n "$health_pid" ] && kill "$health_pid" 2>/dev/null && wait "$health_pid" 2>/dev/null
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  rm -rf "$work"
  # Exec sessions' monitors end exit_command_delay (containers.conf) after their session.
  for _ in $(seq 1 30); do pgrep -f "conmon .* -n ${project}_" >/dev/null || break; sleep 1; done
  local left
  left=$(
    leftovers
    pgrep -f "conmon .* -n ${project}_" | sed 's/^/conmon /'
    [ -e "$sock" ] && echo "socket $sock"
    [ -n "$health_pid" ] && kill -0 "$health_pid" 2>/dev/null && echo "health-check loop $health_pid"
    [ -n "$service_pid" ] && kill -0 "$service_pid" 2>/dev/null && echo "podman system service $service_pid"
  )
  if [ -n "$left" ]; then
    echo "compose-smoke: left behind: $left" >&2
    [ "$status" -eq 0 ] && status=1
  fi
  say "finished with status $status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Under the lock, what exists of the project was left by a run that was killed: remove it.
if [ -n "$(leftovers)" ]; then
  say "removing what a killed run left: $(leftovers | tr '\n' ' ')"
  podman ps -a -q --filter "label=com.docker.compose.project=$project" | xargs -r podman rm -f >/dev/null
  podman network ls --format '{{.Name}}' | grep "^${project}_" | xargs -r podman network rm -f >/dev/null || true
  podman volume ls --format '{{.Name}}' | grep "^${project}_" | xargs -r podman volume rm -f >/dev/null || true
fi

# --- The Docker API, and health checks (podman runs them only under systemd) ------------------------
podman system service --time=0 "unix://$sock" >"$work/podman-service.log" 2>&1 &
service_pid=$!
for _ in $(seq 1 50); do
  [ -S "$sock" ] && curl -fsS --unix-socket "$sock" http://podman/_ping >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS --unix-socket "$sock" http://podman/_ping >/dev/null || fail "podman system service did not answer on $sock"
(
  while :; do
    for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" 2>/dev/null); do
      podman healthcheck run "$id" >/dev/null 2>&1 || true
    done
    sleep 3
  done
) &
health_pid=$!

# --- Images --------------------------------------------------------------------------------------------
KIKIMIMI_COMPOSE_CACHE=$cache bash "$root/scripts/compose/base-images.sh"
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "smoke-$password" >"$work/admin-password"
cat >"$work/test.env" <<EOF
KIKIMIMI_PORT=$port
POSTGRES_PASSWORD=$password
KIKIMIMI_DEMO_RATE=60
EOF
say 'building the app image (docker-compose build)'
KIKIMIMI_BUILD_CA_CERTS=$(node "$root/scripts/compose/extra-ca-certs.ts" "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}") \
  compose build >"$work/build.log" 2>&1 ||
  {
    tail -n 30 "$work/build.log" >&2
    fail 'docker-compose build failed'
  }
# Earlier builds' images no tag points to any more, once a day old (younger ones are the layer cache).
podman image prune -f --filter until=24h >/dev/null

# --- Checks --------------------------------------------------------------------------------------------
base="http://127.0.0.1:$port"
container_of() { compose ps -q "$1" | head -n 1; }
started_at() { podman inspect --format '{{.State.StartedAt}}' "$(container_of "$1")"; }
# restarted SERVICE STARTED-BEFORE: the service's container has started again since.
restarted() { [ "$(started_at "$1")" != "$2" ] || fail "$1 was not restarted"; }
health_of() { podman inspect --format '{{.State.Health.Status}}' "$(container_of "$1")" 2>/dev/null; }
# wait_healthy SERVICE...: each service's health check passes within 3 minutes.
wait_healthy() {
  local service deadline=$(($(date +%s) + 180))
  for service in "$@"; do
    until [ "$(health_of "$service")" = healthy ]; do
      [ "$(date +%s)" -lt "$deadline" ] || fail "$service is not healthy after 3 minutes ($(health_of "$service"))"
      sleep 2
    done
  done
}
redis() { compose exec -T redis redis-cli --raw "$@"; }
# Every match id, from the console's JSON API (at least $1 of them, waiting up to a minute).
api_matches() { node "$root/scripts/compose/console.ts" matches "$base" "$work/admin-password" "$1"; }
# No review (notify) job twice: one job per match (BullMQ job id notify-<match id>), in one state only,
# and each for a match the JSON API shows. The states are read in one Lua script, so in one instant (read
# one by one, a job moving on in between — active to delayed while its surge hold lasts, delayed to
# prioritized when that ends — was seen in both).
NOTIFY_JOB_IDS_LUA='local ids = {}
for _, state in ipairs({"wait", "active", "paused"}) do
  for _, id in ipairs(redis.call("LRANGE", "kikimimi:notify:" .. state, 0, -1)) do ids[#ids + 1] = id end
end
for _, state in ipairs({"completed", "failed", "delayed", "prioritized"}) do
  for _, id in ipairs(redis.call("ZRANGE", "kikimimi:notify:" .. state, 0, -1)) do ids[#ids + 1] = id end
end
return ids'
check_review_jobs() {
  local ids duplicates matches strays
  ids=$(redis EVAL "$NOTIFY_JOB_IDS_LUA" 0)
  ids=$(grep -v '^$' <<<"$ids" || true)
  [ -n "$ids" ] || fail "$1: no review job at all"
  duplicates=$(sort <<<"$ids" | uniq -d)
  [ -z "$duplicates" ] || fail "$1: review jobs queued more than once: $duplicates"
  matches=$(api_matches 1)
  strays=$(comm -23 <(sort <<<"$ids") <(sed 's/^/notify-/' <<<"$matches" | sort))
  [ -z "$strays" ] || fail "$1: review jobs for no match in the JSON API: $strays"
  say "$1: $(grep -c . <<<"$ids") review jobs, one per match, none twice"
}
# check_kept LABEL IDS-BEFORE: every match from before is still in the API, and new ones arrive.
check_kept() {
  local before_count now lost
  before_count=$(grep -c . <<<"$2")
  now=$(api_matches $((before_count + 1))) || fail "$1: no new match arrived within a minute"
  lost=$(comm -23 <(sort <<<"$2") <(sort <<<"$now"))
  [ -z "$lost" ] || fail "$1: matches lost: $lost"
  [ -z "$(sort <<<"$now" | uniq -d)" ] || fail "$1: a match is listed twice: $(sort <<<"$now" | uniq -d)"
  say "$1: all $before_count matches kept, $(($(grep -c . <<<"$now") - before_count)) new"
}

say 'docker-compose up -d'
compose up -d >"$work/up.log" 2>&1 || {
  cat "$work/up.log" >&2
  fail 'docker-compose up -d failed'
}
wait_healthy postgres redis worker web
migrate_exit=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$(container_of migrate)")
[ "$migrate_exit" = 'exited 0' ] || fail "migrate did not complete (state: $migrate_exit)"
say 'every service healthy; migrate completed'

curl -fsS -o /dev/null "$base/healthz" || fail "the console does not answer on $base"
node "$root/scripts/compose/console.ts" setup "$base" "$work/admin-password"
say "the console answers on port $port; the first admin is set up"
first=$(api_matches 1) || fail 'no demo match arrived in the JSON API within a minute'
say "$(grep -c . <<<"$first") demo matches in the JSON API"

for service in worker web; do
  uid=$(compose exec -T "$service" sh -c 'id -u; awk "/^Uid:/ {print \$2}" /proc/1/status')
  [ "$(sort -u <<<"$uid")" = 1000 ] || fail "$service runs as uid $(tr '\n' ' ' <<<"$uid") (expected node, 1000)"
  # podman (since 3.0) writes what the container wrote on stderr to its own stderr, dropped here: this
  # checks the container's stdout only.
  logs=$(podman logs "$(container_of "$service")" 2>/dev/null)
  [ -n "$logs" ] || fail "$service wrote nothing on stdout"
  node -e 'for (const line of require("fs").readFileSync(0, "utf8").split("\n")) if (line) JSON.parse(line)' \
    <<<"$logs" || fail "$service wrote a line that is not JSON on stdout"
done
for service in postgres redis; do
  uid=$(compose exec -T "$service" awk '/^Uid:/ {print $2}' /proc/1/status)
  [ -n "$uid" ] && [ "$uid" != 0 ] || fail "$service's server runs as root"
done
say 'worker and web run as node (uid 1000) and log JSON lines on stdout; postgres and redis not as root'

before=$(api_matches 1)
since=$(started_at worker)
compose restart worker >/dev/null 2>&1
restarted worker "$since"
wait_healthy worker
check_kept 'restart worker' "$before"
check_review_jobs 'restart worker'

before=$(api_matches 1)
since=$(started_at worker)
compose kill -s SIGKILL worker >/dev/null 2>&1
state=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$(container_of worker)")
[ "$state" = 'exited 137' ] || fail "the worker is not killed by SIGKILL (state: $state)"
compose start worker >/dev/null 2>&1
restarted worker "$since"
wait_healthy worker
check_kept 'SIGKILL worker, start' "$before"
check_review_jobs 'SIGKILL worker, start'

before=$(api_matches 1)
compose down >/dev/null 2>&1
compose up -d >/dev/null 2>&1 || fail 'docker-compose up -d after down failed'
wait_healthy postgres redis worker web
check_kept 'down, up -d (the admin signed in again)' "$before"

compose down -v >/dev/null 2>&1 || fail 'docker-compose down -v failed'
left=$(leftovers)
[ -z "$left" ] || fail "docker-compose down -v left: $left"
say 'down -v: no container, network or volume left'
say "passed in $(($(date +%s) - started)) s"
