#!/usr/bin/env bash
# Installs everything smbx needs to build and test on a fresh Debian 12.
# Idempotent and non-interactive; safe to run again. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries (Debian packages only)
  libboost1.81-dev libssl-dev libcli11-dev doctest-dev libfuse3-dev libsqlite3-dev
  # mount.smbx needs fusermount3 and /sbin/mount.fuse3's neighbours
  fuse3
  # fuzzing (libFuzzer ships with clang)
  clang libclang-rt-14-dev
  # real peers for the interop tests: Samba's server, client and torture suite;
  # tshark checks our traffic for malformed packets
  samba smbclient samba-testsuite tshark
  # test and benchmark tools
  time iproute2 procps python3
  # programs the mount tests run on a mount.smbx mount
  fio sqlite3 git tar xz-utils attr
  # the other FUSE clients tests/bench/mount.sh compares with
  smbnetfs rclone
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
