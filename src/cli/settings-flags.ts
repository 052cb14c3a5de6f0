import type { Command } from "commander";
import { type Config, loadConfig, SETTINGS, type SettingName, type SettingOverrides } from "../config.js";

/** The settings each kind of command reads; `serve` takes them all. */
export const CATALOGUE_SETTINGS: readonly SettingName[] = [
  "PHOTOCAT_DATA_DIR",
  "PHOTOCAT_DATABASE_URL",
  "PHOTOCAT_STORAGE_URL",
  "PHOTOCAT_STORAGE_SIDECARS",
  "PHOTOCAT_LOG_LEVEL",
];
export const ANALYSIS_SETTINGS: readonly SettingName[] = [
  "PHOTOCAT_ANALYSER",
  "PHOTOCAT_MODEL",
  "PHOTOCAT_CONCURRENCY",
  "PHOTOCAT_LANGUAGE",
  "PHOTOCAT_SHARE_CONTEXT",
  "PHOTOCAT_TAXONOMY",
  "PHOTOCAT_RPM",
  "PHOTOCAT_TIMEOUT_MS",
  "PHOTOCAT_MAX_RETRIES",
  "PHOTOCAT_PRICES",
];
/** Search by meaning with a remote provider: who embeds photos and queries, and with which model. */
export const EMBEDDING_SETTINGS: readonly SettingName[] = ["PHOTOCAT_EMBEDDINGS", "PHOTOCAT_EMBEDDING_MODEL"];
export const INGEST_SETTINGS: readonly SettingName[] = ["PHOTOCAT_MAX_UPLOAD_MB", "PHOTOCAT_MAX_PIXELS"];

function optionKey(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function entries(): [SettingName, { flag: string; help: string; default: string }][] {
  return Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][];
}

/** Adds the settings' flags (--data-dir, --port...) to a command (all when `only` is absent). */
export function addSettingFlags(command: Command, only?: readonly SettingName[]): Command {
  for (const [name, setting] of entries()) {
    if (only && !only.includes(name)) continue;
    const fallback = setting.default ? `, default ${setting.default}` : "";
    command.option(`${setting.flag} <value>`, `${setting.help} (env ${name}${fallback})`);
  }
  return command;
}

/**
 * Flags win over environment variables, which win over the command's own `defaults`. `--provider` is
 * another name for `--analyser`. Errors name the flag when the value came from one.
 */
export function configFromFlags(
  options: Record<string, unknown>,
  defaults: SettingOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const overrides: SettingOverrides = {};
  const labels: Partial<Record<SettingName, string>> = {};
  for (const [name, setting] of entries()) {
    const value = options[optionKey(setting.flag)];
    if (typeof value === "string") {
      overrides[name] = value;
      labels[name] = setting.flag;
    }
  }
  if (typeof options.provider === "string") {
    overrides.PHOTOCAT_ANALYSER = options.provider;
    labels.PHOTOCAT_ANALYSER = "--provider";
  }
  return loadConfig(env, overrides, { labels, defaults });
}
