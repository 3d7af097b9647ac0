#!/usr/bin/env bash
# Restart benchmark, one command, no arguments: publishes the example as JIT, ReadyToRun,
# ReadyToRun composite and Native AOT, the Identity and gRPC test apps and the gRPC load client,
# builds the Go peers (cloudflare/tableflip, facebookgo/grace) from Debian's packaged sources, and
# measures them all side by side in one run under the same load and restart schedule, each system in
# pairs of a steady run and a run under restarts. Writes docs/benchmarks.md and docs/restart-latency.svg.
# BENCH_DURATION (seconds per single load run, default 20; pair runs last at most 15), BENCH_PAIRS
# (pairs per system, default 3) and BENCH_ONLY (comma-separated names, BENCH_ONLY=list prints them; a
# quick look that writes no docs but the sections of "ws" and "soak") shorten development runs.
# The chaos soak (build/soak.py) runs last: SOAK_DURATION seconds (default 600; 0 keeps the last soak's
# section), SOAK_SEED repeats a run.
set -euo pipefail
cd "$(dirname "$0")/.."
# bench.py states in the results how long the run took, publishes included.
export BENCH_STARTED="${BENCH_STARTED:-$(date +%s)}"

# Debian packages: load generators, the Go toolchain with the two libraries' sources, clang and
# zlib for the Native AOT link, openssl for the HTTPS rows' certificate.
packages=()
command -v wrk >/dev/null || packages+=(wrk)
command -v h2load >/dev/null || packages+=(nghttp2-client)
command -v python3 >/dev/null || packages+=(python3)
command -v go >/dev/null || packages+=(golang-go)
[ -d /usr/share/gocode/src/github.com/cloudflare/tableflip ] || packages+=(golang-github-cloudflare-tableflip-dev)
[ -d /usr/share/gocode/src/github.com/facebookgo/grace ] || packages+=(golang-github-facebookgo-grace-dev)
command -v clang >/dev/null || packages+=(clang)
[ -e /usr/include/zlib.h ] || packages+=(zlib1g-dev)
command -v openssl >/dev/null || packages+=(openssl)
if [ "${#packages[@]}" -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
fi

out=artifacts/bench
rm -rf "$out"
mkdir -p "$out"

# Each variant builds in its own artifacts folder, so that no build reuses another's intermediates.
publish() {
  local name="$1"
  shift
  dotnet publish examples/HelloGraceful -c Release --artifacts-path "$out/build-$name" -o "$out/$name" "$@"
}
publish app
publish r2r -r linux-x64 --self-contained false -p:PublishReadyToRun=true
publish composite -r linux-x64 --self-contained true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true
publish aot -r linux-x64 -p:PublishAot=true
# The Identity rows' app: EF Core on SQLite with Identity bearer tokens (JIT).
dotnet publish test/apps/IdentityApp -c Release --artifacts-path "$out/build-identity" -o "$out/identity"
# The gRPC rows: the test app (JIT, an HTTP/2-only endpoint) and the load client in bench/GrpcLoad.
dotnet publish test/apps/GrpcApp -c Release --artifacts-path "$out/build-grpc" -o "$out/grpc"
dotnet publish bench/GrpcLoad -c Release --artifacts-path "$out/build-grpcload" -o "$out/grpcload"

# The Go peers, offline, in GOPATH mode against the packaged sources; never from a module proxy.
mkdir -p "$out/go"
for peer in tableflip grace; do
  GOPATH=/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE="$PWD/$out/go-cache" \
    go build -o "$out/go/$peer" "./bench/$peer"
done

# A self-signed certificate for the HTTPS rows.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$out/key.pem" -out "$out/cert.pem" 2>/dev/null

python3 build/bench.py
# The soak replaces only its own section of docs/benchmarks.md, so it can run alone.
# SOAK_DURATION=0 skips it, and the section of the last soak stays.
case ",${BENCH_ONLY:-}," in
  ,,|*,soak,*) [ "${SOAK_DURATION:-600}" = 0 ] || python3 build/soak.py ;;
esac
