#!/usr/bin/env bash
# Restart benchmark: publishes the example in Release and measures, side by side in one run,
# steady state, StartFirst and StopFirst restarts every second (with and without warm-up), a naive
# stop-and-start baseline, plain Kestrel, HTTP/2 under h2load, time to the new pid, memory, and 100
# WebSocket clients across a restart every 5 s under wrk load.
# Writes docs/benchmarks.md and docs/restart-latency.svg. No arguments. BENCH_ONLY=ws (or a comma
# list of row names) runs only those rows; with ws it rewrites only the long-lived section.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v python3 >/dev/null || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

rm -rf artifacts/bench
dotnet publish examples/HelloGraceful -c Release -o artifacts/bench/app
python3 build/bench.py
