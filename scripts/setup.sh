#!/usr/bin/env bash
# Installs what ConvKit needs on a fresh Debian/Ubuntu machine that has the .NET 10 SDK:
#   scripts/setup.sh          restore the NuGet packages (the library, tests and samples need nothing else)
#   scripts/setup.sh --peers  also the peers for benchmarks and fixture generation: Debian's PyTorch,
#                             NumPy and OpenBLAS (run as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2; exit 1; }

if [[ "${1:-}" == "--peers" ]]; then
    sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-torch python3-numpy libopenblas0-pthread >/dev/null
fi

dotnet restore ConvKit.sln --verbosity quiet
echo "setup: done"
