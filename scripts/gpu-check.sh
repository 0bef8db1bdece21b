#!/usr/bin/env bash
# The GPU check (bench/ConvKit.GpuCheck) for a machine with an NVIDIA driver but no .NET SDK.
#   bash scripts/gpu-check.sh pack   here: publishes it self-contained for linux-x64 into artifacts/gpu-check.tar.gz,
#                                    with a run.sh beside the program (artifacts/ is git-ignored: carry the tarball)
#   bash scripts/gpu-check.sh run    on the GPU machine, from the repository root: unpacks the tarball to a temporary
#                                    folder and runs run.sh there (nvidia-smi, the fixtures, the bench, each with a time
#                                    limit), logging to $OUT/gpu-check.log, or ./gpu-check.log where OUT is not set.
# GPU_CHECK_DEVICE=ilgpu-cpu runs the fixtures and the bench on ILGPU's CPU accelerator instead of CUDA (a dry run
# without a GPU); FIXTURES_LIMIT and BENCH_LIMIT (seconds, default 200 and 240) bound the two steps.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tarball="$repo/artifacts/gpu-check.tar.gz"

case "${1:-}" in
pack)
    staging="$repo/artifacts/gpu-check"
    rm -rf "$staging" && mkdir -p "$staging"
    # Invariant globalization: no ICU needed on the GPU machine. Symbols, XML docs and satellite resources (other than
    # English) are left out to keep it small.
    dotnet publish "$repo/bench/ConvKit.GpuCheck" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false \
        -p:InvariantGlobalization=true -p:SatelliteResourceLanguages=en -o "$staging" -nologo -clp:ErrorsOnly
    find "$staging" \( -name '*.pdb' -o -name '*.xml' \) -delete
    cat > "$staging/run.sh" <<'EOF'
#!/usr/bin/env bash
# Runs the GPU check from this folder, each step under a time limit; exits 1 if any step failed or timed out.
cd "$(dirname "$0")"
device="${GPU_CHECK_DEVICE:-cuda}" status=0
step() {
    local limit=$1 start=$SECONDS rc=0; shift
    echo "== $* (limit ${limit} s)"
    timeout -k 10 "$limit" "$@" || rc=$?
    echo "== exit $rc after $((SECONDS - start)) s$([[ $rc == 124 || $rc == 137 ]] && echo ', timed out')"
    [[ $rc == 0 ]] || status=1
}
if command -v nvidia-smi > /dev/null; then step 30 nvidia-smi; fi
step "${FIXTURES_LIMIT:-200}" ./ConvKit.GpuCheck fixtures --device "$device"
step "${BENCH_LIMIT:-240}" ./ConvKit.GpuCheck bench --device "$device"
exit $status
EOF
    chmod +x "$staging/run.sh" "$staging/ConvKit.GpuCheck"
    tar -czf "$tarball" -C "$staging" .
    rm -rf "$staging"
    echo "$tarball: $(du -h "$tarball" | cut -f1)"
    ;;
run)
    log="${OUT:-$PWD}/gpu-check.log"
    work="$(mktemp -d -t gpu-check-XXXXXX)"
    trap 'rm -rf "$work"' EXIT
    tar -xzf "${GPU_CHECK_TARBALL:-artifacts/gpu-check.tar.gz}" -C "$work"
    bash "$work/run.sh" 2>&1 | tee "$log"   # pipefail: the exit status is run.sh's
    ;;
*)
    echo "usage: bash scripts/gpu-check.sh pack|run" >&2
    exit 2
    ;;
esac
