import { z } from "zod";
import { ConfigurationError } from "../../domain/errors.js";

/**
 * PHOTOCAT_SECRETS names settings whose values live in Secrets Manager or SSM Parameter Store, so they are
 * never in a function's environment or template: {"PHOTOCAT_PASSWORD":"secretsmanager:photocat/password",
 * "PHOTOCAT_API_TOKENS":"ssm:/photocat/tokens"} (a secret's name or ARN; a parameter's name, SecureString
 * decrypted). Read once when the function starts; returns the environment with those settings filled in.
 */
const SecretRefs = z.record(
  z.string().regex(/^[A-Z][A-Z0-9_]*$/, "a setting name such as PHOTOCAT_PASSWORD"),
  z.string().regex(/^(secretsmanager|ssm):.+$/, 'a reference "secretsmanager:<name or ARN>" or "ssm:<name>"'),
);

export async function withSecrets(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const spec = env.PHOTOCAT_SECRETS;
  if (!spec) return env;
  let json: unknown;
  try {
    json = JSON.parse(spec);
  } catch {
    throw new ConfigurationError('PHOTOCAT_SECRETS must be JSON: {"SETTING":"secretsmanager:name"}');
  }
  const parsed = SecretRefs.safeParse(json);
  if (!parsed.success) {
    throw new ConfigurationError(`PHOTOCAT_SECRETS: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  const resolved: Record<string, string> = {};
  await Promise.all(
    Object.entries(parsed.data).map(async ([setting, ref]) => {
      const colon = ref.indexOf(":");
      const kind = ref.slice(0, colon);
      const name = ref.slice(colon + 1);
      const value = kind === "ssm" ? await parameter(name) : await secret(name);
      if (value === undefined || value === "") {
        throw new ConfigurationError(`PHOTOCAT_SECRETS: ${setting}'s ${kind} value ${name} is empty`);
      }
      resolved[setting] = value;
    }),
  );
  return { ...env, ...resolved };
}

async function secret(name: string): Promise<string | undefined> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({});
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } finally {
    client.destroy();
  }
}

async function parameter(name: string): Promise<string | undefined> {
  const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
  const client = new SSMClient({});
  try {
    return (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter
      ?.Value;
  } finally {
    client.destroy();
  }
}
