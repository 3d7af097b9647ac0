#!/usr/bin/env bash
# Packs the GracefulHosting library (Release): GracefulHosting.<version>.nupkg with the README,
# XML docs and SourceLink, and the matching .snupkg with the pdb.
# Usage: build/pack.sh [output folder]   (default: artifacts/packages)
set -euo pipefail

# A folder given as an argument is relative to the caller's directory; the default to the repository.
if [ $# -gt 0 ]; then
  mkdir -p "$1"
  output="$(cd "$1" && pwd)"
fi
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  mkdir -p artifacts/packages
  output="$(pwd)/artifacts/packages"
fi

dotnet pack src/GracefulHosting/GracefulHosting.csproj -c Release -o "$output" -nologo
ls -1 "$output"/GracefulHosting.*.nupkg "$output"/GracefulHosting.*.snupkg
