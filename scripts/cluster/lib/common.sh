# Shared helpers for up.sh / down.sh / status.sh (sourced, not executed).
# shellcheck shell=bash

LCR_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../versions.env
source "$LCR_SCRIPTS_DIR/versions.env"
LCR_CACHE="${LCR_CACHE_DIR:-$HOME/.cache/linkerd-cert-rotator}"
LCR_BIN="$LCR_CACHE/bin"
# Port claims of every local cluster on this machine (see up.sh), one file per port naming its state dir.
LCR_PORTS_DIR="${LCR_PORTS_DIR:-${TMPDIR:-/tmp}/lcr-ports}"
mkdir -p "$LCR_PORTS_DIR"

# Start-up order; down.sh stops in reverse.
LCR_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok cert-manager trust-manager)

lcr_log() { printf '[lcr-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# lcr_pid_alive PIDFILE: true if the pid recorded in PIDFILE is a live process running the
# binary recorded beside it (NAME.exe), so that a reused pid is never mistaken for ours.
lcr_pid_alive() {
  local f=$1 pid exe want
  [[ -s "$f" ]] || return 1
  pid=$(<"$f")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -s "${f%.pid}.exe" ]]; then
    want=$(<"${f%.pid}.exe")
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [[ "${exe% (deleted)}" == "$want" ]] || return 1
  fi
  return 0
}

# lcr_stop_all STATE_DIR [DEADLINE_SECONDS]: SIGTERM every recorded pid (reverse start order),
# then SIGKILL whatever is still alive after the deadline. Only pids recorded in STATE_DIR/pids.
lcr_stop_all() {
  local dir=$1 deadline=${2:-15} i name f pid
  local -a pids=() names=()
  [[ -d "$dir/pids" ]] || return 0
  for ((i = ${#LCR_COMPONENTS[@]} - 1; i >= 0; i--)); do
    name=${LCR_COMPONENTS[$i]}
    f="$dir/pids/$name.pid"
    if lcr_pid_alive "$f"; then
      pid=$(<"$f")
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
  done
  local end=$((SECONDS + deadline)) alive
  while :; do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive == 0 || SECONDS >= end )) && break
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      lcr_log "${names[$i]} (pid ${pids[$i]}) did not exit after ${deadline}s: SIGKILL"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  rm -f "$dir"/pids/*.pid "$dir"/pids/*.exe
}

# lcr_port_bindable PORT: true if a listener could bind 127.0.0.1:PORT now.
lcr_port_bindable() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
  else
    node -e 'const s = require("net").createServer(); s.once("error", () => process.exit(1)); s.listen(+process.argv[1], "127.0.0.1", () => s.close())' "$1" 2>/dev/null
  fi
}

# lcr_release_ports STATE_DIR: drops the port claims up.sh made for STATE_DIR.
lcr_release_ports() {
  local claim
  for claim in "$LCR_PORTS_DIR"/[0-9]*; do
    [[ -f "$claim" && "$(<"$claim")" == "$1" ]] && rm -f "$claim"
  done
  return 0
}
