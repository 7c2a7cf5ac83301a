# Shared helpers for up.sh / down.sh / status.sh (sourced, not executed).
# shellcheck shell=bash

LCR_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../versions.env
source "$LCR_SCRIPTS_DIR/versions.env"
LCR_CACHE="${LCR_CACHE_DIR:-$HOME/.cache/linkerd-cert-rotator}"
LCR_BIN="$LCR_CACHE/bin"

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
