#!/usr/bin/env bash
# Test fixtures that come from outside PyPI: the official HL7 R4 example resources (npm) and
# Debian's Chromium, in which the report test renders the management report headless.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
if [ ! -d .cache/hl7/node_modules/hl7.fhir.r4.examples ]; then
  npm install --silent --no-audit --no-fund --prefix .cache/hl7 hl7.fhir.r4.examples >/dev/null
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq chromium >/dev/null
  fi
fi
