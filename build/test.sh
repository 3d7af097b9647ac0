#!/usr/bin/env bash
# Builds the solution and runs every test: unit tests, then integration tests that start real
# master and child processes. Prints one closing line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

configuration="${CONFIGURATION:-Release}"
log="$(mktemp -t graceful-test.XXXXXX)"
trap 'rm -f "$log"' EXIT

# The systemd tests drive systemd-socket-activate and systemd-analyze (Debian package systemd).
if ! command -v systemd-socket-activate >/dev/null || ! command -v systemd-analyze >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd
fi

dotnet restore GracefulHosting.sln
dotnet build GracefulHosting.sln --no-restore -c "$configuration"

status=0
for project in test/*/*.csproj; do
  echo "==> $project"
  dotnet test "$project" --no-build -c "$configuration" --logger "console;verbosity=normal" 2>&1 | tee -a "$log" \
    || status=1
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
