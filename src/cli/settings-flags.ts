import type { Command } from "commander";
import { type Config, loadConfig, SETTINGS, type SettingOverrides } from "../config.js";

type SettingName = keyof typeof SETTINGS;

function optionKey(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds every setting's flag (--data-dir, --port...) to a command; help shows the environment variable. */
export function addSettingFlags(command: Command, only?: readonly SettingName[]): Command {
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    if (only && !only.includes(name)) continue;
    command.option(`${setting.flag} <value>`, `${setting.help} (env ${name}, default ${setting.default})`);
  }
  return command;
}

/** Flags win over environment variables. `--provider` is another name for `--analyser`. */
export function configFromFlags(
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const overrides: SettingOverrides = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const value = options[optionKey(setting.flag)];
    if (typeof value === "string") overrides[name] = value;
  }
  if (typeof options.provider === "string") overrides.PHOTOCAT_ANALYSER = options.provider;
  if (options.shareContext === true) overrides.PHOTOCAT_SHARE_CONTEXT = "on";
  return loadConfig(env, overrides);
}
