import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPhotocat } from "../../src/entry/start.js";
import { fakeAnalyser } from "../support/fake-analyser.js";
import {
  axeViolations,
  CHROMIUM_SKIP_REASON,
  ensureWebBuilt,
  HAS_CHROMIUM,
  launchChromium,
  openPage,
  screenshot,
  serious,
} from "./browser.js";

const PASSWORD = "correct horse battery staple";

describe.skipIf(!HAS_CHROMIUM)("gallery behind a password", () => {
  let dataDir: string;
  let server: { url: string; close(): Promise<void> };
  let chromium: { browser: Browser; close(): Promise<void> };

  beforeAll(async () => {
    await ensureWebBuilt();
    dataDir = await mkdtemp(path.join(os.tmpdir(), "photocat-e2e-login-"));
    server = await startPhotocat({
      dataDir,
      analyser: fakeAnalyser(),
      settings: { PHOTOCAT_PASSWORD: PASSWORD },
    });
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("asks for the password, refuses a wrong one, lets the right one in, and signs out", async () => {
    const context = await chromium.browser.newContext({ viewport: { width: 1024, height: 720 } });
    const { page, problems } = await openPage(context);
    await page.goto(server.url);
    await page.getByRole("heading", { name: "Sign in to Photocat" }).waitFor();
    expect(await page.getByRole("list", { name: "Photos" }).count()).toBe(0);
    expect(serious(await axeViolations(page))).toEqual([]);

    const password = page.getByLabel("Password");
    await password.fill("guess");
    await page.keyboard.press("Enter");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/password/i);
    await screenshot(page, "login-light");

    await password.fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Your library is empty" }).waitFor();

    // The session cookie survives a reload.
    await page.reload();
    await page.getByRole("heading", { name: "Your library is empty" }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Photocat" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Sign in to Photocat" }).waitFor();
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
    await context.close();
  });
});

if (!HAS_CHROMIUM) console.warn(`[skip] login e2e: ${CHROMIUM_SKIP_REASON}`);
