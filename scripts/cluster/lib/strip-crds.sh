#!/usr/bin/env bash
# Concatenates the CRD YAML files of a directory into one multi-document stream on stdout,
# dropping any `spec.conversion` stanza (we run without conversion webhooks).
# Usage: strip-crds.sh DIR
set -euo pipefail
dir=$1
shopt -s nullglob
files=("$dir"/*.yaml "$dir"/*.yml)
(( ${#files[@]} )) || { echo "no CRD files in $dir" >&2; exit 1; }
for f in "${files[@]}"; do
  grep -q '^kind: CustomResourceDefinition' "$f" || continue
  grep -q '{{' "$f" && { echo "templated file $f: not a plain CRD" >&2; exit 1; }
  echo '---'
  awk '
    /^  conversion:/ { skip = 1; next }
    skip && /^(  )?[^ #-]/ { skip = 0 }
    !skip && !/^---[[:space:]]*$/ { print }
  ' "$f"
done
