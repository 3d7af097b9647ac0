#!/usr/bin/env bash
# Builds the solution and runs every test: unit tests, then integration tests that start real
# master and child processes. Prints one closing line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

configuration="${CONFIGURATION:-Release}"
log="$(mktemp -t graceful-test.XXXXXX)"
trap 'rm -f "$log"' EXIT

# The systemd tests drive systemd-socket-activate, systemd-analyze and a private user manager
# (/lib/systemd/systemd --user, started in a mount namespace of its own by unshare): Debian
# packages systemd and util-linux. The Native AOT test links with clang against zlib.
packages=()
{ command -v systemd-socket-activate >/dev/null && command -v systemd-analyze >/dev/null && [ -x /lib/systemd/systemd ]; } || packages+=(systemd)
command -v unshare >/dev/null || packages+=(util-linux)
command -v clang >/dev/null || packages+=(clang)
[ -e /usr/include/zlib.h ] || packages+=(zlib1g-dev)
if [ "${#packages[@]}" -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
fi

dotnet restore GracefulHosting.sln
dotnet build GracefulHosting.sln --no-restore -c "$configuration"

# Each test project runs in a process group of its own. The tests kill what they start by pid;
# anything still in the group afterwards (say, from a test host that crashed) is a leak: it is
# reported, killed by process group, and fails the run.
run_tests() {
  local project="$1" pgid_file rc pgid left
  pgid_file="$(mktemp -t graceful-pgid.XXXXXX)"
  set +e
  setsid --wait bash -c 'echo $$ > "$0"; exec dotnet test "$1" --no-build -c "$2" --logger "console;verbosity=normal"' \
    "$pgid_file" "$project" "$configuration" 2>&1 | tee -a "$log"
  rc="${PIPESTATUS[0]}"
  set -e
  pgid="$(cat "$pgid_file")"
  rm -f "$pgid_file"
  sleep 1
  left="$(ps -eo pid=,pgid=,stat= | awk -v g="$pgid" '$2 == g && $3 !~ /^Z/ { print $1 }' | tr '\n' ' ')"
  if [ -n "$left" ]; then
    echo "$project left processes behind: $left" >&2
    kill -KILL -- "-$pgid" 2>/dev/null || true
    rc=1
  fi
  return "$rc"
}

status=0
for project in test/*/*.csproj; do
  echo "==> $project"
  run_tests "$project" || status=1
done

# dotnet test ends each project with "Total tests: N" and indented "Passed: N", "Failed: N", "Skipped: N".
sum() { { grep -E "^ +$1: +[0-9]+ *$" "$log" || true; } | awk '{ n += $2 } END { print n + 0 }'; }
passed="$(sum Passed)"
failed="$(sum Failed)"
skipped="$(sum Skipped)"
projects="$(ls test/*/*.csproj | wc -l)"
if [ "$(grep -c '^Total tests:' "$log")" -ne "$projects" ]; then
  echo "a test project ended without a summary" >&2
  status=1
fi
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit $status
