#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`, which `npm ci` runs via `prepare`).
import('../dist/src/cli/main.js').catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
