#!/usr/bin/env node
// Runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
if (!existsSync(compiled)) {
  console.error("photocat: the compiled code is missing; run `npm run build` (npm ci does it for you).");
  process.exit(1);
}
await import(compiled);
