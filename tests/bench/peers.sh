# The FUSE clients the mount benchmarks compare (mount.sh, failover.sh):
# mount.smbx, smbnetfs and `rclone mount`, mounted on $mnt against
# //$HOST/$SHARE as $DOMAIN/$USER with $PASSWORD. Sourced inside the
# benchmark's network namespace; $work is its scratch directory and
# $MOUNT_SMBX the mount helper. MOUNT_SMBX_OPTIONS (extra -o options) and
# MOUNT_SMBX_LOG (default $work/mount.smbx.log) tune the mount.smbx mount.

# find_daemon NAME: the PID of the process serving $mnt whose command line names NAME.
find_daemon() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ $cmd == *"$1"* && $cmd == *" $mnt"* ]] || continue
    echo "${p#/proc/}"
    return 0
  done
  return 1
}

# mount_peer PEER: mounts it on $mnt and sets $dir (where files go, a fresh
# "bench" directory) and $daemon_pid; prints the reason and fails if it cannot.
mount_peer() {
  dir=$mnt
  case $1 in
    mount.smbx)
      [[ -x $MOUNT_SMBX ]] || { echo "$MOUNT_SMBX is not built"; return 1; }
      printf 'username=%s\npassword=%s\ndomain=%s\n' "$USER" "$PASSWORD" "$DOMAIN" >"$work/credentials"
      chmod 600 "$work/credentials"
      timeout 30 "$MOUNT_SMBX" "//$HOST/$SHARE" "$mnt" -o "credentials=$work/credentials${MOUNT_SMBX_OPTIONS:+,$MOUNT_SMBX_OPTIONS}" \
        --log "${MOUNT_SMBX_LOG:-$work/mount.smbx.log}" >"$work/mount.out" 2>&1 ||
        { echo "mount.smbx failed: $(head -c 200 "$work/mount.out" | tr '\n' ' ')"; return 1; }
      daemon_pid=$(find_daemon mount.smbx) || { echo "no mount.smbx daemon found"; return 1; }
      ;;
    smbnetfs)
      command -v smbnetfs >/dev/null || { echo "smbnetfs is not installed"; return 1; }
      mkdir -p "$work/smbnetfs/.smb"
      printf '[global]\n  client min protocol = SMB2_02\n  client max protocol = SMB3_11\n' >"$work/smbnetfs/.smb/smb.conf"
      printf 'smb_query_browsers "false"\nauth "%s" "%s/%s" "%s"\nhost "%s" visible=true\n' \
        "$HOST" "$DOMAIN" "$USER" "$PASSWORD" "$HOST" >"$work/smbnetfs/.smb/smbnetfs.conf"
      chmod 600 "$work/smbnetfs/.smb/"*
      HOME=$work/smbnetfs timeout 30 smbnetfs "$mnt" -o "config=$work/smbnetfs/.smb/smbnetfs.conf,log_file=$work/smbnetfs.log" \
        >"$work/mount.out" 2>&1 || { echo "smbnetfs failed: $(head -c 200 "$work/mount.out" | tr '\n' ' ')"; return 1; }
      daemon_pid=$(find_daemon smbnetfs) || { echo "no smbnetfs daemon found"; return 1; }
      dir=$mnt/$HOST/$SHARE
      ;;
    rclone)
      command -v rclone >/dev/null || { echo "rclone is not installed"; return 1; }
      RCLONE_CONFIG=/dev/null timeout 30 rclone mount ":smb:$SHARE" "$mnt" --smb-host "$HOST" --smb-user "$USER" \
        --smb-pass "$(rclone obscure "$PASSWORD")" --smb-domain "$DOMAIN" --vfs-cache-mode off \
        --daemon --daemon-timeout 30s --log-file "$work/rclone.log" >"$work/mount.out" 2>&1 ||
        { echo "rclone mount failed: $(head -c 200 "$work/mount.out" | tr '\n' ' ')"; return 1; }
      daemon_pid=$(find_daemon rclone) || { echo "no rclone daemon found"; return 1; }
      ;;
    *) echo "unknown peer $1"; return 1 ;;
  esac
  local i
  for ((i = 0; i < 50; i++)); do [[ -d $dir ]] && break; sleep 0.1; done
  mountpoint -q "$mnt" || { echo "$mnt is not mounted"; return 1; }
  [[ -d $dir ]] || { echo "$dir does not appear"; return 1; }
  mkdir -p "$dir/bench" || { echo "mkdir on the mount failed"; return 1; }
  dir=$dir/bench
}

# umount_peer: unmounts $mnt and waits (5 s at most) for its daemon to exit,
# then kills it (by its PID).
umount_peer() {
  if mountpoint -q "$mnt" 2>/dev/null; then
    timeout 20 umount "$mnt" 2>/dev/null || timeout 10 umount -l "$mnt" 2>/dev/null || true
  fi
  if [[ -n $daemon_pid ]]; then
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$daemon_pid" 2>/dev/null && kill -KILL "$daemon_pid" 2>/dev/null
  fi
  daemon_pid=""
}
