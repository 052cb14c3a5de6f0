import path from "node:path";
import { describe, expect, it } from "vitest";
import { isExposed, loadConfig, SETTINGS, type SettingName } from "../src/config.js";
import { ConfigurationError } from "../src/domain/errors.js";

describe("configuration", () => {
  it("has zero-config defaults: local analyser, SQLite and files under ./data", () => {
    const config = loadConfig({});
    expect(config.host).toBe("127.0.0.1");
    expect(config.port).toBe(3000);
    expect(config.analyser).toBe("local");
    expect(config.dataDir).toBe(path.resolve("data"));
    expect(config.databaseUrl).toBe(`sqlite:${path.resolve("data", "photocat.db")}`);
    expect(config.maxUploadBytes).toBe(50 * 1024 * 1024);
    expect(config.maxPixels).toBe(100_000_000);
    expect(config.shareContext).toBe(false);
    expect(config.taxonomy.categories).toHaveLength(10);
  });

  it("flags win over the environment", () => {
    const config = loadConfig({ PHOTOCAT_PORT: "4000" }, { PHOTOCAT_PORT: "5000" });
    expect(config.port).toBe(5000);
  });

  it("names the setting in errors", () => {
    expect(() => loadConfig({ PHOTOCAT_PORT: "http" })).toThrow(/PHOTOCAT_PORT/);
    expect(() => loadConfig({ PHOTOCAT_ANALYSER: "gpt" })).toThrow(ConfigurationError);
    expect(() => loadConfig({ PHOTOCAT_SHARE_CONTEXT: "maybe" })).toThrow(/PHOTOCAT_SHARE_CONTEXT/);
    expect(() => loadConfig({ PHOTOCAT_PRICES: "{" })).toThrow(/PHOTOCAT_PRICES/);
    expect(() => loadConfig({ PHOTOCAT_TAXONOMY: "Bad Slug!" })).toThrow(/PHOTOCAT_TAXONOMY/);
  });

  it("names the flag the user typed when the value came from a flag, the variable when from the environment", () => {
    const labels = { PHOTOCAT_PORT: "--port", PHOTOCAT_CONCURRENCY: "-c" };
    expect(() => loadConfig({}, { PHOTOCAT_PORT: "http" }, { labels })).toThrow(/^--port must be a number$/);
    expect(() => loadConfig({ PHOTOCAT_PORT: "http" }, {}, { labels })).toThrow(/^PHOTOCAT_PORT must be/);
    expect(() => loadConfig({}, { PHOTOCAT_CONCURRENCY: "0" }, { labels })).toThrow(
      /^-c must be at least 1$/,
    );
  });

  it("takes a command's own defaults below flags and the environment", () => {
    const defaults = { PHOTOCAT_LOG_LEVEL: "warn" };
    expect(loadConfig({}, {}, { defaults }).logLevel).toBe("warn");
    expect(loadConfig({ PHOTOCAT_LOG_LEVEL: "debug" }, {}, { defaults }).logLevel).toBe("debug");
    expect(loadConfig({}, {}).logLevel).toBe(SETTINGS.PHOTOCAT_LOG_LEVEL.default);
  });

  it("writes each default once: the SETTINGS table's literal defaults are what an unset setting means", () => {
    const unset = loadConfig({});
    for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, { default: string }][]) {
      if (setting.default.startsWith("<")) continue;
      expect(loadConfig({ [name]: setting.default }), name).toEqual(unset);
    }
    // and changing one of them does change the config, so the comparison above can fail
    expect(loadConfig({ PHOTOCAT_CONCURRENCY: "3" })).not.toEqual(unset);
  });

  it("reads lists and switches", () => {
    const config = loadConfig({
      PHOTOCAT_API_TOKENS: "token-aaaaaaaaaaaaaaaa, token-bbbbbbbbbbbbbbbb,,",
      PHOTOCAT_CORS_ORIGINS: "https://x.example",
      PHOTOCAT_SHARE_CONTEXT: "on",
      PHOTOCAT_TAXONOMY: "cats: cat photos; dogs",
    });
    expect(config.apiTokens).toEqual(["token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"]);
    expect(config.corsOrigins).toEqual(["https://x.example"]);
    expect(config.shareContext).toBe(true);
    expect(config.taxonomy.categories.map((c) => c.slug)).toEqual(["cats", "dogs", "other"]);
  });

  it("refuses trivially weak secrets, naming the setting", () => {
    expect(() => loadConfig({ PHOTOCAT_PASSWORD: " " })).toThrow(/PHOTOCAT_PASSWORD .*at least 8/);
    expect(() => loadConfig({ PHOTOCAT_PASSWORD: "        " })).toThrow(/not only spaces/);
    expect(() => loadConfig({ PHOTOCAT_PASSWORD: "seven77" })).toThrow(ConfigurationError);
    expect(() => loadConfig({ PHOTOCAT_API_TOKENS: "x" })).toThrow(/PHOTOCAT_API_TOKENS .*at least 16/);
    expect(() => loadConfig({ PHOTOCAT_API_TOKENS: "a-long-enough-token-1,short" })).toThrow(
      /PHOTOCAT_API_TOKENS/,
    );
    const config = loadConfig({ PHOTOCAT_PASSWORD: "eight ch", PHOTOCAT_API_TOKENS: "0123456789abcdef" });
    expect(config.password).toBe("eight ch");
    expect(config.apiTokens).toEqual(["0123456789abcdef"]);
  });

  it("reads the trusted-proxy setting: off by default, on, or a list of addresses", () => {
    expect(loadConfig({}).trustedProxy).toBe(false);
    expect(loadConfig({ PHOTOCAT_TRUSTED_PROXY: "on" }).trustedProxy).toBe(true);
    expect(loadConfig({ PHOTOCAT_TRUSTED_PROXY: "off" }).trustedProxy).toBe(false);
    expect(loadConfig({ PHOTOCAT_TRUSTED_PROXY: "10.0.0.2, ::1" }).trustedProxy).toEqual(["10.0.0.2", "::1"]);
    expect(() => loadConfig({ PHOTOCAT_TRUSTED_PROXY: "proxy.local" })).toThrow(/PHOTOCAT_TRUSTED_PROXY/);
  });

  it("knows which hosts are exposed", () => {
    expect(isExposed("127.0.0.1")).toBe(false);
    expect(isExposed("localhost")).toBe(false);
    expect(isExposed("0.0.0.0")).toBe(true);
    expect(isExposed("192.168.1.10")).toBe(true);
  });
});
