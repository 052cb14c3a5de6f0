import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** ../shared/testdata beside the project: real images written by others, never copied into the repo. */
export const TESTDATA_DIR = path.resolve(fileURLToPath(new URL("../../../shared/testdata", import.meta.url)));
export const HAS_TESTDATA = existsSync(path.join(TESTDATA_DIR, "README.md"));
export const TESTDATA_SKIP_REASON = `../shared/testdata not found at ${TESTDATA_DIR}: tests that need real photos are skipped`;

if (!HAS_TESTDATA) console.warn(`[skip] ${TESTDATA_SKIP_REASON}`);

export function testdataPath(relative: string): string {
  return path.join(TESTDATA_DIR, relative);
}

export interface ManifestRow {
  path: string;
  bytes: number;
  format: string;
  label: string;
}

/** All MANIFEST.tsv rows of every source folder, with paths relative to TESTDATA_DIR. */
export function readManifests(): ManifestRow[] {
  if (!HAS_TESTDATA) return [];
  const rows: ManifestRow[] = [];
  const sources =
    readFileSync(path.join(TESTDATA_DIR, "README.md"), "utf8").match(/^\| ([a-z0-9-]+) \|/gm) ?? [];
  for (const source of sources.map((s) => s.slice(2, -2).trim())) {
    const manifest = path.join(TESTDATA_DIR, source, "MANIFEST.tsv");
    if (!existsSync(manifest)) continue;
    for (const line of readFileSync(manifest, "utf8").split("\n").slice(1)) {
      const [p, bytes, format, label] = line.split("\t");
      if (!p) continue;
      rows.push({ path: `${source}/${p}`, bytes: Number(bytes), format: format ?? "", label: label ?? "" });
    }
  }
  return rows;
}

/** Files the testdata README calls robustness cases: corrupt, truncated, malformed, fuzz or bombs. */
export function robustnessFiles(): ManifestRow[] {
  return readManifests().filter((r) => /^(ROBUSTNESS|FUZZ)|corrupt|truncat|malformed|bomb/i.test(r.label));
}
