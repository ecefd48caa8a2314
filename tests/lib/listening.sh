# shellcheck shell=bash
# Waiting for a server that was just started (smbxd, mostly) to accept
# connections. Sourced by test, benchmark and demo scripts.

# wait_listening [-n NETNS] PID PORT [TRIES [INTERVAL]]: waits until something
# accepts TCP connections on 127.0.0.1:PORT (inside NETNS when given).
# Returns 0 once it does, 1 when process PID exited first, 2 after TRIES
# attempts (default 100) INTERVAL seconds apart (default 0.1).
wait_listening() {
  local netns=()
  if [[ ${1:-} == -n ]]; then
    netns=(ip netns exec "$2")
    shift 2
  fi
  local pid=$1 port=$2 tries=${3:-100} interval=${4:-0.1} i
  for ((i = 0; i < tries; i++)); do
    "${netns[@]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep "$interval"
  done
  return 2
}
