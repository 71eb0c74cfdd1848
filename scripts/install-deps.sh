#!/usr/bin/env bash
# Installs the system libraries Tangent links (OpenBLAS, LAPACKE, zstd, zlib, libcurl) when any is missing.
# With --always (CI), refreshes the package lists and installs them unconditionally.
set -euo pipefail
always=${1:-}
packages=(libopenblas-dev liblapacke-dev libzstd-dev zlib1g-dev libcurl4-openssl-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "$always" = "--always" ] && missing=("${packages[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo > /dev/null; then
    echo "error: missing ${missing[*]}; run this script as root or install them with apt-get" >&2
    exit 1
  fi
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
