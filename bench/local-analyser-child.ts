/**
 * Measures the local analyser in a process of its own, so its peak memory is its own.
 * Usage: node --import tsx bench/local-analyser-child.ts <count> <photo>...   Prints one JSON line.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createAnalyser } from "../src/analysers/registry.js";
import { loadConfig } from "../src/config.js";
import { errorMessage } from "../src/domain/errors.js";
import { DEFAULT_TAXONOMY } from "../src/domain/taxonomy.js";
import { silentLogger } from "../src/logger.js";
import { detectMediaType } from "../src/media/detect.js";
import { percentile, round } from "./report.js";

function peakRssMb(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  return kb ? Number(kb) / 1024 : process.resourceUsage().maxRSS / 1024;
}

const [countArg = "30", ...photos] = process.argv.slice(2);
const count = Math.min(Number(countArg), photos.length);
try {
  const loadStarted = performance.now();
  const config = loadConfig({}, { PHOTOCAT_ANALYSER: "local" });
  const analyser = await createAnalyser(config, { name: "local", logger: silentLogger() });
  await analyser.warmUp?.();
  const loadMs = performance.now() - loadStarted;
  const times: number[] = [];
  const failures: string[] = [];
  for (const photo of photos.slice(0, count)) {
    const bytes = await readFile(photo);
    const started = performance.now();
    try {
      await analyser.analyse({
        bytes,
        mediaType: await detectMediaType(bytes),
        taxonomy: DEFAULT_TAXONOMY,
        language: "en",
      });
      times.push(performance.now() - started);
    } catch (error) {
      failures.push(`${photo}: ${errorMessage(error)}`);
    }
  }
  await analyser.close?.();
  process.stdout.write(
    `${JSON.stringify({
      available: true,
      model: analyser.model,
      photos: times.length,
      failed: failures.length,
      failures: failures.slice(0, 5),
      load_ms: round(loadMs, 0),
      p50_ms: round(percentile(times, 50), 0),
      p95_ms: round(percentile(times, 95), 0),
      peak_rss_mb: round(peakRssMb(), 0),
    })}\n`,
  );
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ available: false, reason: errorMessage(error).slice(0, 300) })}\n`,
  );
}
