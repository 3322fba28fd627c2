#!/usr/bin/env bash
# `npm test`: type-check, lint, then every test suite; ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
status=0
echo "== tsc --noEmit"; npx tsc --noEmit || status=1
echo "== eslint"; npx eslint . || status=1
echo "== vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json=out/vitest.json || status=1
node -e '
  const fs = require("fs");
  if (!fs.existsSync("out/vitest.json")) { console.log("0 passed, 1 failed"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync("out/vitest.json", "utf8"));
  const failed = r.numFailedTests + (r.numFailedTestSuites || 0);
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
'
exit $status
