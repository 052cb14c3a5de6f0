import { defaultBedrockModel } from "../../src/analysers/bedrock/index.js";

/**
 * Deploy settings, read from CDK context (`-c name=value` or the `context` of deploy/aws/cdk.json). Every
 * one is documented in the README's "AWS serverless" section; a wrong value stops the synth with the
 * setting's name and what it accepts.
 */
export interface DeploySettings {
  region: string;
  /** Where the gallery password lives, if it has one. */
  passwordSecret: SecretRef | null;
  /** Where the API tokens (comma-separated) live, if any. */
  apiTokensSecret: SecretRef | null;
  analyser: "bedrock" | "anthropic" | "openai";
  /** Bedrock model or inference-profile id (or another provider's model name). */
  model: string;
  /** The key of a provider other than Bedrock (anthropic, openai). */
  providerKeySecret: SecretRef | null;
  /** At most this many analysis functions run at once: protects the Bedrock quota. */
  analysisConcurrency: number;
  ingestConcurrency: number;
  /** Deliveries of a message before it goes to its dead-letter queue. */
  maxReceiveCount: number;
  logRetentionDays: number;
  /** How long refused files and the results of incoming files are kept in the drop zone. */
  rejectedRetentionDays: number;
  /** Files left in incoming/ (their ingest failed past the dead-letter queue) expire after this. */
  incomingRetentionDays: number;
  maxUploadMb: number;
  /** Alarms are sent to this address too (the SNS topic exists either way). */
  alarmEmail: string | null;
}

/** A secret in Secrets Manager (name or ARN) or an SSM SecureString parameter (`ssm:/name`). */
export type SecretRef = { kind: "secretsmanager"; name: string } | { kind: "ssm"; name: string };

export const SETTING_HELP = {
  region: "AWS region to deploy to (default: CDK_DEFAULT_REGION, AWS_REGION, else us-east-1)",
  passwordSecret: "gallery password: a Secrets Manager secret name or ARN, or ssm:/parameter (SecureString)",
  apiTokensSecret: "comma-separated API tokens, as passwordSecret",
  analyser: "bedrock (default), anthropic or openai",
  model: "model or inference-profile id (default: the region's Claude Haiku 4.5 inference profile)",
  providerKeySecret: "API key of the anthropic or openai analyser, as passwordSecret",
  analysisConcurrency: "most analysis functions running at once (2-1000, default 2)",
  ingestConcurrency: "most ingest functions running at once (2-1000, default 5)",
  maxReceiveCount: "deliveries of a queue message before its dead-letter queue (1-100, default 5)",
  logRetentionDays: "days function and API logs are kept (default 30)",
  rejectedRetentionDays: "days refused files and upload results are kept (default 30)",
  incomingRetentionDays: "days a file that could not be ingested stays in incoming/ (default 30)",
  maxUploadMb: "largest upload in MB (1-4096, default 50)",
  alarmEmail: "an address the alarms are mailed to (optional; confirm the subscription mail)",
} as const;

export type SettingName = keyof typeof SETTING_HELP;

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
];

export class SettingsError extends Error {
  override name = "SettingsError";
}

/**
 * Reads and checks the settings. `context(name)` returns the raw context value; `env` supplies the
 * default region as the CDK CLI sets it.
 */
export function readSettings(
  context: (name: SettingName) => unknown,
  env: NodeJS.ProcessEnv = process.env,
): DeploySettings {
  const text = (name: SettingName): string | null => {
    const value = context(name);
    if (value === undefined || value === null || value === "") return null;
    if (typeof value !== "string" && typeof value !== "number") {
      throw new SettingsError(`context ${name} must be a string: ${SETTING_HELP[name]}`);
    }
    return String(value).trim() || null;
  };
  const integer = (name: SettingName, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new SettingsError(`context ${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    }
    return n;
  };
  const retention = (name: SettingName, fallback: number, allowed?: number[]): number => {
    const days = integer(name, fallback, 1, 3650);
    if (allowed && !allowed.includes(days)) {
      throw new SettingsError(`context ${name} must be one of ${allowed.join(", ")} (got ${days})`);
    }
    return days;
  };
  const secret = (name: SettingName): SecretRef | null => {
    const raw = text(name);
    if (raw === null) return null;
    if (raw.startsWith("ssm:")) {
      const parameter = raw.slice("ssm:".length);
      if (!/^\/?[\w./-]+$/.test(parameter)) {
        throw new SettingsError(`context ${name}: "${parameter}" is not an SSM parameter name`);
      }
      return { kind: "ssm", name: parameter.startsWith("/") ? parameter : `/${parameter}` };
    }
    if (!/^(arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:)?[\w/+=.@-]+$/.test(raw)) {
      throw new SettingsError(`context ${name}: "${raw}" is not a Secrets Manager secret name or ARN`);
    }
    return { kind: "secretsmanager", name: raw };
  };

  const region = text("region") ?? env.CDK_DEFAULT_REGION ?? env.AWS_REGION ?? "us-east-1";
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new SettingsError(`context region: "${region}" is not an AWS region such as eu-west-1`);
  }
  const passwordSecret = secret("passwordSecret");
  const apiTokensSecret = secret("apiTokensSecret");
  if (!passwordSecret && !apiTokensSecret) {
    throw new SettingsError(
      "Photocat is not deployed without a password: create a secret (aws secretsmanager create-secret " +
        "--name photocat/password --secret-string '<at least 8 characters>') and pass -c passwordSecret=photocat/password " +
        "(or -c apiTokensSecret=..., or ssm:/name for an SSM SecureString parameter)",
    );
  }
  const analyser = (text("analyser") ?? "bedrock").toLowerCase();
  if (analyser !== "bedrock" && analyser !== "anthropic" && analyser !== "openai") {
    throw new SettingsError(`context analyser must be bedrock, anthropic or openai (got "${analyser}")`);
  }
  const providerKeySecret = secret("providerKeySecret");
  if (analyser !== "bedrock" && !providerKeySecret) {
    throw new SettingsError(
      `context analyser=${analyser} needs -c providerKeySecret=<secret holding its API key>`,
    );
  }
  const model = text("model") ?? (analyser === "bedrock" ? defaultBedrockModel(region) : null);
  if (!model) throw new SettingsError(`context analyser=${analyser} needs -c model=<model name>`);
  if (analyser === "bedrock") bedrockModel(model, region); // Fails now on an id the IAM policy cannot name.
  const alarmEmail = text("alarmEmail");
  if (alarmEmail !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new SettingsError(`context alarmEmail: "${alarmEmail}" is not an email address`);
  }

  return {
    region,
    passwordSecret,
    apiTokensSecret,
    analyser,
    model,
    providerKeySecret,
    analysisConcurrency: integer("analysisConcurrency", 2, 2, 1000),
    ingestConcurrency: integer("ingestConcurrency", 5, 2, 1000),
    maxReceiveCount: integer("maxReceiveCount", 5, 1, 100),
    logRetentionDays: retention("logRetentionDays", 30, LOG_RETENTION_DAYS),
    rejectedRetentionDays: retention("rejectedRetentionDays", 30),
    incomingRetentionDays: retention("incomingRetentionDays", 30),
    maxUploadMb: integer("maxUploadMb", 50, 1, 4096),
    alarmEmail,
  };
}

/** A Bedrock model id taken apart: the foundation model and, when it is one, the inference profile. */
export interface BedrockModel {
  /** e.g. anthropic.claude-haiku-4-5-20251001-v1:0 */
  foundationModel: string;
  /** e.g. eu.anthropic.claude-haiku-4-5-20251001-v1:0, or null for a model invoked in its own region. */
  inferenceProfile: string | null;
}

const PROFILE_PREFIXES = ["us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"];

/**
 * `eu.anthropic.claude-haiku-4-5-20251001-v1:0` (a cross-region inference profile), or
 * `anthropic.claude-3-haiku-20240307-v1:0` (a model with on-demand use in the region), or an
 * inference-profile ARN of the deploy region.
 */
export function bedrockModel(model: string, region: string): BedrockModel {
  let id = model;
  const arn = /^arn:aws[\w-]*:bedrock:([\w-]+):\d{12}:inference-profile\/(.+)$/.exec(model);
  if (arn) {
    if (arn[1] !== region) {
      throw new SettingsError(
        `context model: the inference profile ${model} is not in the deploy region ${region}`,
      );
    }
    id = arn[2] ?? "";
  } else if (model.startsWith("arn:")) {
    throw new SettingsError(
      `context model: give a model id, an inference-profile id or a system inference-profile ARN (got "${model}")`,
    );
  }
  if (!/^[a-z0-9-]+(\.[\w-]+)+(:\d+)?$/.test(id)) {
    throw new SettingsError(`context model: "${model}" is not a Bedrock model or inference-profile id`);
  }
  const [first = "", ...rest] = id.split(".");
  if (PROFILE_PREFIXES.includes(first) && rest.length >= 2) {
    return { foundationModel: rest.join("."), inferenceProfile: id };
  }
  return { foundationModel: id, inferenceProfile: null };
}
