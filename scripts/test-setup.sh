#!/usr/bin/env bash
# Test fixtures that come from outside PyPI: the official HL7 R4 example resources (npm).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
if [ ! -d .cache/hl7/node_modules/hl7.fhir.r4.examples ]; then
  npm install --silent --no-audit --no-fund --prefix .cache/hl7 hl7.fhir.r4.examples >/dev/null
fi
