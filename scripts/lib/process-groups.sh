# Sourced by the check scripts. Each service they start runs in its own session, so the
# pid in its pid file names its whole process group (gunicorn's master and workers,
# celery's children): stopping the group leaves nothing behind, whatever way a script ends.

# stop_group PIDFILE: TERM the group, wait up to 10 s, then KILL it; forget the pid file.
stop_group() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  rm -f "$1"
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
