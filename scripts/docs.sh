#!/usr/bin/env bash
# Builds the API reference with DocFX (a local tool: .config/dotnet-tools.json) from the XML doc comments of ConvKit,
# ConvKit.Onnx, ConvKit.Vision and ConvKit.Gpu, with the README (set-up, the command line, the API examples), docs/architecture.md
# and bench/RESULTS.md as articles, into artifacts/docs/ (open artifacts/docs/index.html, or serve the folder with
# 'python3 -m http.server -d artifacts/docs'). Lists each public member without XML docs (the compiler's CS1591) and
# fails if there is one, or if DocFX warns (a broken link or cross-reference).
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet tool restore >/dev/null
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# --no-incremental: the compiler reports a missing doc comment only when it compiles the file.
dotnet build src/ConvKit.Cli -c Release --no-incremental -nologo --verbosity quiet -clp:NoSummary >"$log" 2>&1 || { cat "$log"; exit 1; }
grep 'warning CS1591' "$log" | sort -u | sed -E 's#^.*/(src/[^(]+)\(([0-9]+),[0-9]+\): warning CS1591: Missing XML comment for publicly visible type or member (.*) \[.*#\1:\2 \3#' >"$log.cs1591" || true
undocumented=$(wc -l <"$log.cs1591")
cat "$log.cs1591"; rm -f "$log.cs1591"
echo "docs: $undocumented public members without XML docs"

rm -rf artifacts/docs docs/api/*.yml
dotnet docfx docfx.json --warningsAsErrors
echo "docs: artifacts/docs/index.html"
[[ $undocumented -eq 0 ]] || { echo "docs: document the members above (/// <summary>, or /// <inheritdoc/> for an override)" >&2; exit 1; }
