import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import type { Construct } from "constructs";

const REPO_ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Lambda's runtime and CPU: the bundles are built for exactly this (see NATIVE_PACKAGES). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ARCHITECTURE = lambda.Architecture.X86_64;

/**
 * Packages shipped as they are in node_modules instead of bundled: sharp loads a compiled addon
 * (@img/sharp-linux-x64) and libvips (@img/sharp-libvips-linux-x64) that esbuild cannot inline. The
 * prebuilt linux-x64 glibc binaries npm installs on a Linux x64 machine are the ones Lambda's x86_64
 * runtime (Amazon Linux 2023, glibc) loads, so they are copied with no network and no Docker.
 */
export const NATIVE_PACKAGES = ["sharp"];
/** The binaries that must be in node_modules for the copy above to run on Lambda. */
const LAMBDA_BINARIES = ["@img/sharp-linux-x64", "@img/sharp-libvips-linux-x64"];

/**
 * Left out of the bundles: only other configurations load them (dynamic imports of the offline
 * analyser, SQLite, PostgreSQL, ExifTool, OCR), and Lambda's package limit is 250 MB. Reaching one on
 * Lambda fails with "Cannot find package", naming it.
 */
export const NOT_ON_LAMBDA = [
  "better-sqlite3",
  "pg",
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "@vladmandic/human",
  "nsfwjs",
  "tesseract.js",
  "@tesseract.js-data/eng",
  "@tesseract.js-data/osd",
  "exiftool-vendored.pl",
  "pino-pretty",
  "chokidar",
];

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
      throw new Error(`${name} is not installed (needed by ${path.relative(root, from) || "the bundle"}): run npm ci`);
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

/** Shell commands copying the native packages next to the bundle, into node_modules as Node expects. */
export function copyNativePackages(outputDir: string, root = REPO_ROOT): string[] {
  const missing = LAMBDA_BINARIES.filter((name) => !packageDir(name, root));
  if (missing.length > 0) {
    throw new Error(
      `Lambda needs sharp's linux-x64 binaries (${missing.join(", ")}), which npm installs only on Linux x64: ` +
        "run `npm install --no-save --os=linux --cpu=x64 --libc=glibc sharp` first",
    );
  }
  return packageClosure(NATIVE_PACKAGES, root).map((dir) => {
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
  props: Omit<nodejs.NodejsFunctionProps, "runtime" | "architecture" | "bundling" | "handler" | "projectRoot">,
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
      externalModules: [...NATIVE_PACKAGES, ...NOT_ON_LAMBDA],
      // Bundled CommonJS code still calls require() and reads __dirname.
      banner:
        "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; " +
        "import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); " +
        "const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_inputDir, outputDir) => copyNativePackages(outputDir),
      },
    },
  });
}
