/**
 * A Photocat server in a process of its own, so a test can measure its memory (RSS) apart from the test's.
 * Started with fork(): sends {url} once listening, and answers each "rss" message with {rss} in bytes.
 * Settings come from the environment (PHOTOCAT_*); the data folder is PHOTOCAT_DATA_DIR.
 */
import { startPhotocat } from "../../src/entry/start.js";
import { fakeAnalyser } from "./fake-analyser.js";

const app = await startPhotocat({
  dataDir: process.env.PHOTOCAT_DATA_DIR!,
  analyser: fakeAnalyser(),
  worker: false,
  settings: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PHOTOCAT_"))),
});
process.on("message", (message) => {
  if (message === "rss") process.send!({ rss: process.memoryUsage().rss });
  if (message === "close") void app.close().then(() => process.exit(0));
});
process.send!({ url: app.url });
