#!/usr/bin/env bash
# Builds the solution and runs every test: unit tests, then integration tests that start real
# master and child processes. Prints one closing line: "N passed, N failed, N skipped".
#
# The run fails if a test fails, if a test project leaves a process behind, if a test hangs for
# longer than $HANG_TIMEOUT (dotnet test then writes a dump of the test host and its children to
# TestResults/ and stops them), or if a test is skipped for any reason other than a kernel feature
# this machine lacks: such a skip reason starts with "Missing kernel feature:".
set -euo pipefail
cd "$(dirname "$0")/.."

configuration="${CONFIGURATION:-Release}"
# Well above the slowest test (the first Native AOT test, which waits for the publish of the AOT test
# app: about 1 minute on 2 idle cores, 6 at most), so that only a hang, never a slow machine, stops a test.
hang_timeout="${HANG_TIMEOUT:-8m}"
log="$(mktemp -t graceful-test.XXXXXX)"
results="$(mktemp -d -t graceful-results.XXXXXX)"
trap 'rm -rf "$log" "$results"' EXIT

# The systemd tests drive systemd-socket-activate, systemd-analyze and a private user manager
# (/lib/systemd/systemd --user, started in a mount namespace of its own by unshare): Debian
# packages systemd and util-linux. The Native AOT test links with clang against zlib.
packages=()
{ command -v systemd-socket-activate >/dev/null && command -v systemd-analyze >/dev/null && [ -x /lib/systemd/systemd ]; } || packages+=(systemd)
# setpriv runs a master as an unprivileged user; unshare gives the user manager a mount namespace.
{ command -v unshare >/dev/null && command -v setpriv >/dev/null; } || packages+=(util-linux)
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
  setsid --wait bash -c 'echo $$ > "$0"; exec dotnet test "$1" --no-build -c "$2" --logger "console;verbosity=normal" \
      --blame-hang-timeout "$3" --blame-hang-dump-type mini --results-directory "$4"' \
    "$pgid_file" "$project" "$configuration" "$hang_timeout" "$results" 2>&1 | tee -a "$log"
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

# xUnit prints each skipped test as "[xUnit.net 00:00:01.23]     Name [SKIP]" and its reason on the next line.
bad_skips="$(awk '
  / \[SKIP\]$/ {
    name = $0; sub(/^\[xUnit\.net [0-9:.]+\] +/, "", name); sub(/ \[SKIP\]$/, "", name)
    reason = ""; getline reason; sub(/^\[xUnit\.net [0-9:.]+\] +/, "", reason)
    if (reason !~ /^Missing kernel feature:/) print "  " name ": " reason
  }' "$log")"
if [ -n "$bad_skips" ]; then
  echo "skipped, and not for a missing kernel feature (a skip reason must start with \"Missing kernel feature:\"):" >&2
  echo "$bad_skips" >&2
  status=1
fi

# A hang leaves dumps behind: keep them where CI and developers look.
if find "$results" -name '*.dmp' | grep -q .; then
  mkdir -p TestResults
  cp -r "$results"/. TestResults/
  echo "a test hung for $hang_timeout; dumps are in TestResults/" >&2
  status=1
fi
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit $status
