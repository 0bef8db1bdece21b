#!/usr/bin/env bash
# Packs ConvKit, ConvKit.Onnx, ConvKit.Vision, ConvKit.Gpu and the convkit tool (ConvKit.Cli) into a local folder feed, then uses
# them as a package user would, in a fresh temporary folder outside the repository: a new console project takes
# ConvKit and ConvKit.Vision from the feed (third-party dependencies from the machine's NuGet sources), compiles and
# runs the README's first library example, and the tool installed from the feed (with the README's runtime settings)
# runs 'convkit models' and 'convkit summary resnet18 --json'. Prints "package test: passed" and exits 0, or says
# what failed and exits 1. .ci/run runs it after the tests (about 50 s once the tests have built the sources).
#   scripts/package-test.sh [FEED]   keeps the packages in FEED (default: a temporary folder, removed afterwards)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t convkit-package-test-XXXXXX)"
trap 'rm -rf "$work"' EXIT
feed="${1:-$work/feed}"
mkdir -p "$feed"
feed="$(cd "$feed" && pwd)"
fail() { echo "package test: $*" >&2; exit 1; }

# 1. Pack. The tool's build builds the four libraries; each is then packed from that build. The version is the
#    one of Directory.Build.props; ContinuousIntegrationBuild makes the builds deterministic (paths mapped to /_/).
props=(-c Release -p:ContinuousIntegrationBuild=true -nologo --verbosity quiet)
dotnet build "$repo/src/ConvKit.Cli" "${props[@]}" -clp:ErrorsOnly
for project in ConvKit ConvKit.Onnx ConvKit.Vision ConvKit.Gpu ConvKit.Cli; do
    dotnet pack "$repo/src/$project" "${props[@]}" --no-build -o "$feed"
done
version="$(dotnet msbuild "$repo/src/ConvKit" -getProperty:Version)"
for package in ConvKit ConvKit.Onnx ConvKit.Vision ConvKit.Gpu ConvKit.Cli; do
    [[ -f "$feed/$package.$version.nupkg" && -f "$feed/$package.$version.snupkg" ]] || fail "$package.$version.nupkg or .snupkg missing in $feed"
done

# Each library package carries its XML docs, the README, the licence and metadata; its symbols are in the .snupkg.
python3 - "$feed" "$version" <<'PY' || fail "a package lacks its docs, readme, licence or symbols"
import sys, zipfile
feed, version = sys.argv[1:]
for package in ["ConvKit", "ConvKit.Onnx", "ConvKit.Vision", "ConvKit.Gpu"]:
    with zipfile.ZipFile(f"{feed}/{package}.{version}.nupkg") as nupkg:
        names, nuspec = nupkg.namelist(), nupkg.read(f"{package}.nuspec").decode()
    for name in [f"lib/net10.0/{package}.dll", f"lib/net10.0/{package}.xml", "README.md", "CHANGELOG.md"]:
        assert name in names, f"{package}: no {name}"
    for tag in ['<license type="expression">MIT</license>', "<readme>README.md</readme>", "<description>", "<repository "]:
        assert tag in nuspec, f"{package}: no {tag} in its nuspec"
    with zipfile.ZipFile(f"{feed}/{package}.{version}.snupkg") as snupkg:
        assert f"lib/net10.0/{package}.pdb" in snupkg.namelist(), f"{package}: no pdb in its snupkg"
PY

# 2. A package user's program, away from the sources: its own NuGet cache (so packages come from the feed just
#    made, never from an earlier run's copy), the feed as a source beside the machine's ones.
export NUGET_PACKAGES="$work/nuget-packages" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
app="$work/app"
mkdir -p "$app" && cd "$app"
dotnet new console --framework net10.0 --output . >/dev/null
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="convkit-feed" value="$feed" />
  </packageSources>
</configuration>
XML
dotnet add package ConvKit --version "$version" >/dev/null
dotnet add package ConvKit.Vision --version "$version" >/dev/null
for package in convkit convkit.vision; do
    source="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["source"])' "$NUGET_PACKAGES/$package/$version/.nupkg.metadata")"
    [[ "$source" == "$feed" ]] || fail "$package came from $source, not from the feed $feed"
done

# The README's first C# block (the library in a few lines) is the whole program.
awk '/^```csharp$/ { inside = 1; next } inside && /^```$/ { exit } inside' "$repo/README.md" > Program.cs
[[ -s Program.cs ]] || fail "no C# block found in README.md"
dotnet build -c Release --verbosity quiet -clp:ErrorsOnly >/dev/null || { cat Program.cs >&2; fail "the README example does not compile against the packages"; }
printed="$(dotnet run -c Release --no-build)"
echo "$printed"
# The example learns y = x0 + x1 + x2: its three weights end at 1.0000.
[[ "$(grep -o '1\.0000' <<<"$printed" | wc -l)" -eq 3 ]] || fail "the README example did not print three weights of 1.0000"

# 3. The tool, installed from the feed as 'dotnet tool install' does for a user.
dotnet tool install ConvKit.Cli --version "$version" --tool-path "$work/tools" --add-source "$feed" >/dev/null
# The tool runs with the runtime settings the README asks applications to use (src/ConvKit.Cli/ConvKit.Cli.csproj).
python3 - "$work/tools" <<'PY' || fail "the installed tool's runtimeconfig.json lacks the README's runtime settings"
import glob, json, sys
[path] = glob.glob(sys.argv[1] + "/.store/convkit.cli/*/convkit.cli/*/tools/*/any/ConvKit.Cli.runtimeconfig.json")
options = json.load(open(path))["runtimeOptions"]["configProperties"]
wanted = {"System.GC.Concurrent": False, "System.GC.LOHThreshold": 33554432, "System.GC.RetainVM": True,
          "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit": 1000}
assert all(options.get(key) == value for key, value in wanted.items()), options
PY
"$work/tools/convkit" models | tee "$work/models.txt"
grep -q resnet18 "$work/models.txt" || fail "'convkit models' does not list resnet18"
"$work/tools/convkit" summary resnet18 --json > "$work/summary.json"
python3 - "$work/summary.json" <<'PY' || fail "'convkit summary resnet18 --json' did not print the expected JSON"
import json, sys
summary = json.load(open(sys.argv[1]))
print(json.dumps({key: value for key, value in summary.items() if key != "layers"}))
# torchvision's resnet18 has 11,689,512 parameters and 1000 ImageNet classes
assert summary["model"] == "resnet18" and summary["output_shape"] == [1, 1000], summary
assert summary["total_parameters"] == 11689512, summary["total_parameters"]
PY
echo "package test: passed (version $version)"
