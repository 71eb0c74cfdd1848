#!/usr/bin/env bash
# Installs the tools some tests use when they are missing: a headless Chromium, which renders an analysis'
# index.html to a screenshot (the tests that need it skip, saying why, without it).
set -euo pipefail
for browser in chromium-headless-shell chromium chromium-browser google-chrome; do
  if command -v "$browser" > /dev/null; then exit 0; fi
done
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo > /dev/null; then
    echo "error: no headless Chromium; run this script as root or install chromium-headless-shell with apt-get" >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "installing: chromium-headless-shell"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium-headless-shell fonts-dejavu-core
