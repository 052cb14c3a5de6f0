import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { startPhotocat } from "../../src/entry/start.js";
import type { Analyser } from "../../src/ports/analyser.js";

export const PROJECT_ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const ARTIFACTS_DIR = path.join(PROJECT_ROOT, "test-artifacts");
const CHROMIUM_PATH = process.env.PHOTOCAT_CHROMIUM ?? "/usr/bin/chromium";

export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);
export const CHROMIUM_SKIP_REASON = `${CHROMIUM_PATH} not found (apt-get install chromium): browser tests are skipped`;
if (!HAS_CHROMIUM) console.warn(`[skip] ${CHROMIUM_SKIP_REASON}`);

/**
 * Debian's Chromium, headless, with nothing that phones home. Playwright gives each launch a fresh temporary
 * profile (it refuses an explicit --user-data-dir outside launchPersistentContext, which allows one context only).
 */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

export interface TestServer {
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/** Photocat on a fresh data folder, for one browser suite; close() deletes the folder too. */
export async function startTestServer(name: string, analyser: Analyser): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `photocat-e2e-${name}-`));
  try {
    const server = await startPhotocat({ dataDir, analyser });
    return {
      url: server.url,
      dataDir,
      async close() {
        await server.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface BrowserPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  close(): Promise<void>;
}

/**
 * Chromium with one page in a light, reduced-motion context: no half-finished colour transitions when axe
 * measures contrast.
 */
export async function openBrowserPage(
  options: { viewport?: { width: number; height: number }; defaultTimeoutMs?: number } = {},
): Promise<BrowserPage> {
  const chromium = await launchChromium();
  const context = await chromium.browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 860 },
    colorScheme: "light",
    reducedMotion: "reduce",
  });
  const { page, problems } = await openPage(context);
  if (options.defaultTimeoutMs) page.setDefaultTimeout(options.defaultTimeoutMs);
  return { browser: chromium.browser, context, page, problems, close: chromium.close };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** The server serves web/dist: build it when missing or older than its sources, so tests see the current UI. */
export async function ensureWebBuilt(): Promise<void> {
  const index = path.join(PROJECT_ROOT, "web", "dist", "index.html");
  const sources = Math.max(
    newestMtime(path.join(PROJECT_ROOT, "web", "src")),
    statSync(path.join(PROJECT_ROOT, "web", "index.html")).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const { build } = await import("vite");
  await build({ configFile: path.join(PROJECT_ROOT, "web", "vite.config.ts"), logLevel: "warn" });
}

export interface PageProblems {
  cspViolations: string[];
  pageErrors: string[];
  alerts: string[];
}

/** A page that records CSP violations, uncaught errors and any alert() (a sign of injected script). */
export async function openPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage();
  const problems: PageProblems = { cspViolations: [], pageErrors: [], alerts: [] };
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  page.on("console", (message) => {
    if (message.text().startsWith("CSP violation")) problems.cspViolations.push(message.text());
  });
  page.on("pageerror", (error) => problems.pageErrors.push(error.message));
  page.on("dialog", (dialog) => {
    problems.alerts.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  return { page, problems };
}

const AXE_SOURCE = readFileSync(path.join(PROJECT_ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Runs axe-core in the page (evaluated over the DevTools protocol, so the page's CSP stays strict). */
export async function axeViolations(page: Page, include?: string): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (selector) => {
    type AxeResult = {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
    const axe = (
      window as unknown as { axe: { run(context: unknown, options: unknown): Promise<AxeResult> } }
    ).axe;
    const result = await axe.run(selector ? { include: [selector] } : document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => JSON.stringify(n.target)),
    }));
  }, include ?? null);
}

export function serious(violations: AxeViolation[]): AxeViolation[] {
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
