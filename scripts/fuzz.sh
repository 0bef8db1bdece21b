#!/usr/bin/env bash
# Fuzzes one ConvKit parser with SharpFuzz under afl++ for a given time (docs/fuzzing.md).
#
#   scripts/fuzz.sh TARGET SECONDS     TARGET: idx safetensors checkpoint onnx image coco voc yolo
#
# Publishes fuzz/ConvKit.Fuzz into artifacts/fuzz/bin, instruments ConvKit, ConvKit.Onnx, ConvKit.Vision and
# Google.Protobuf with the sharpfuzz tool (.config/dotnet-tools.json), then runs afl-fuzz (Debian: apt-get install afl++)
# from the seeds in fuzz/seeds/TARGET with the dictionaries of fuzz/dictionaries and, when installed, afl++'s own
# (afl++-doc). Findings go to artifacts/fuzz/findings/TARGET (crashes/, hangs/); at the end it prints the executions,
# the crashes and the hangs, and replays each crash to show its exception. Exit code 1 when afl found a crash or hang.
#
# FUZZ_NO_BUILD=1 reuses the instrumented build of an earlier run; FUZZ_NICE (default 15) is the nice level;
# FUZZ_HEAP_MB (default 1024) caps the .NET heap, so a header that makes a reader allocate far more than its file
# holds fails as an OutOfMemoryException (a crash) instead of going unnoticed on a large machine.
set -euo pipefail

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS   (targets: idx safetensors checkpoint onnx image coco voc yolo)" >&2
    exit 2
fi
target=$1 seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seeds=fuzz/seeds/$target
[[ -d $seeds ]] || { echo "fuzz.sh: no seeds for target '$target' in $seeds" >&2; exit 2; }
command -v afl-fuzz >/dev/null || { echo "fuzz.sh: afl-fuzz not found (Debian: apt-get install afl++)" >&2; exit 2; }

bin=artifacts/fuzz/bin
harness=$bin/ConvKit.Fuzz.dll
if [[ ${FUZZ_NO_BUILD:-0} != 1 || ! -f $harness ]]; then
    rm -rf "$bin"
    dotnet tool restore >/dev/null
    dotnet publish fuzz/ConvKit.Fuzz -c Release -o "$bin" -nologo -v q
    for assembly in ConvKit ConvKit.Onnx ConvKit.Vision Google.Protobuf; do
        dotnet tool run sharpfuzz "$bin/$assembly.dll" >/dev/null
        echo "instrumented $assembly.dll"
    done
fi

dictionaries=()
[[ -f fuzz/dictionaries/$target.dict ]] && dictionaries+=(-x "fuzz/dictionaries/$target.dict")
afl_dicts=/usr/share/doc/afl++-doc/afl/dictionaries
case $target in
    image) for d in png jpeg gif webp; do [[ -f $afl_dicts/$d.dict ]] && dictionaries+=(-x "$afl_dicts/$d.dict"); done ;;
    safetensors | checkpoint | coco) [[ -f $afl_dicts/json.dict ]] && dictionaries+=(-x "$afl_dicts/json.dict") ;;
    voc) [[ -f $afl_dicts/xml.dict ]] && dictionaries+=(-x "$afl_dicts/xml.dict") ;;
esac

findings=artifacts/fuzz/findings/$target
rm -rf "$findings"
mkdir -p "$findings/work"
# .NET is not compiled with afl's compiler (SKIP_BIN_CHECK); the machine is shared (NO_AFFINITY, SKIP_CPUFREQ).
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export FUZZ_WORKDIR=$root/$findings/work
export DOTNET_GCHeapHardLimit=$(printf '0x%x' $(( ${FUZZ_HEAP_MB:-1024} * 1024 * 1024 )))
echo "fuzzing $target for $seconds s (seeds $seeds, log $findings/afl.log)"
# -t: a generous per-input limit (ms): the machine may be loaded, and a new child process JIT-compiles at its first input.
nice -n "${FUZZ_NICE:-15}" afl-fuzz -V "$seconds" -t 3000 -m none -i "$seeds" -o "$findings" "${dictionaries[@]}" \
    -- dotnet "$harness" "$target" >"$findings/afl.log" 2>&1 || { tail -30 "$findings/afl.log"; exit 2; }
rm -rf "$findings/work"

stats=$findings/default/fuzzer_stats
stat() { sed -n "s/^$1 *: *//p" "$stats"; }
crashes=$(stat saved_crashes) hangs=$(stat saved_hangs)
echo "target $target: $(stat execs_done) executions in $(stat run_time) s ($(stat execs_per_sec) per second)," \
    "$(stat corpus_count) inputs in the corpus, $crashes crashes, $hangs hangs"
shopt -s nullglob
found=("$findings"/default/crashes/id:* "$findings"/default/hangs/id:*)
if ((${#found[@]} > 0)); then
    echo "replaying what afl found ($findings/default/crashes, hangs):"
    FUZZ_WORKDIR=$root/$findings/work timeout 600 dotnet "$harness" "$target" --replay "${found[@]}" || true
    exit 1
fi
