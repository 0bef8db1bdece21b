#!/usr/bin/env bash
# Installs what ConvKit needs on a fresh Debian/Ubuntu machine that has the .NET 10 SDK:
#   scripts/setup.sh          Fashion-MNIST (Debian's dataset-fashion-mnist, when apt and root or sudo are
#                             available), then restore the NuGet packages, build the convkit command and fetch
#                             the pretrained face models (npm @vladmandic/face-api) into the weights cache
#   scripts/setup.sh --peers  also the peers for benchmarks and fixture generation: Debian's PyTorch,
#                             NumPy and OpenBLAS (run as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2; exit 1; }

sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
can_install() { command -v apt-get >/dev/null && { [[ -z $sudo ]] || sudo -n true 2>/dev/null; }; }
packages=()
[[ -d /usr/share/datasets/fashion-mnist ]] || packages+=(dataset-fashion-mnist)
[[ "${1:-}" == "--peers" ]] && packages+=(python3-torch python3-torchvision python3-numpy libopenblas0-pthread)
if [[ ${#packages[@]} -gt 0 ]]; then
    if can_install; then
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
    else
        echo "setup: cannot install ${packages[*]} (needs apt-get and root or sudo); 'convkit train' will say where it looks for datasets" >&2
    fi
fi

dotnet restore ConvKit.sln --verbosity quiet
dotnet build src/ConvKit.Cli -c Release --no-restore --verbosity quiet -nologo
# The pretrained face networks (npm @vladmandic/face-api 1.7.15, 12.7 MB, SHA-512 checked) into the weights cache;
# the tests of the real face models need them. Offline: set CONVKIT_PRETRAINED_OFFLINE to a folder holding the tarball.
./convkit faces fetch || echo "setup: could not fetch the face models; the face tests will fail until './convkit faces fetch' succeeds" >&2
echo "setup: done"
