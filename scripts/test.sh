#!/usr/bin/env bash
# `npm test`: type-check, lint, then every test suite; ends with the line "N passed, N failed".
# Under `npm test` the first run uses Node 24 (the `node` dev dependency on npm's PATH, even on a machine with only
# Node 20). With NODE22_BIN set (.ci/run sets it), the suite runs a second time under that Node 22 binary, so CI
# proves both LTS lines our users run.
# `npm test -- <file or pattern> [vitest flags]` runs just those test files (vitest's filters), nothing else.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then exec npx vitest run "$@"; fi
mkdir -p out
rm -f out/vitest-*.json out/vitest-survivors.txt
status=0
echo "== tsc --noEmit"; npx tsc --noEmit || status=1
echo "== eslint"; npx eslint . || status=1
echo "== prettier --check"; npx prettier --check . >/dev/null || { npx prettier --check . ; status=1; }
echo "== vitest (node $(node --version))"
npx vitest run --reporter=default --reporter=json --outputFile.json=out/vitest-node.json || status=1
if [ -n "${NODE22_BIN:-}" ]; then
  echo "== vitest (node $("$NODE22_BIN" --version), from NODE22_BIN)"
  PATH="$(dirname "$NODE22_BIN"):$PATH" "$NODE22_BIN" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json=out/vitest-node22.json || status=1
fi
node -e '
  const fs = require("fs");
  const files = fs.readdirSync("out").filter((f) => /^vitest-.*\.json$/.test(f));
  let passed = 0, failed = files.length ? 0 : 1, skipped = 0;
  for (const f of files) {
    const r = JSON.parse(fs.readFileSync("out/" + f, "utf8"));
    passed += r.numPassedTests; skipped += r.numPendingTests + (r.numTodoTests || 0);
    // A suite that fails to load counts as a failure even when it ran no test.
    failed += r.numFailedTests + r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
  }
  // test/global-setup.ts: each process a run left alive counts as a failure (the JSON reports know nothing of it).
  if (fs.existsSync("out/vitest-survivors.txt"))
    failed += fs.readFileSync("out/vitest-survivors.txt", "utf8").split("\n").filter((l) => /^  pid \d+/.test(l)).length;
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
[ "$status" -eq 0 ] || echo "npm test: FAILED (see above)"
exit $status
