import { ConfigurationError } from "../../domain/errors.js";

/**
 * Settings kept in a secret store rather than in the function's configuration, where anyone allowed to
 * read the function could see them. The stack sets PHOTOCAT_SECRETS to a JSON object naming, for each
 * setting, where its value lives:
 * `{"PHOTOCAT_PASSWORD":"secretsmanager:photocat/password","PHOTOCAT_API_TOKENS":"ssm:/photocat/tokens"}`
 * (a Secrets Manager secret name or ARN holding the value as plain text, or an SSM SecureString).
 */
export interface SecretReaders {
  secretsManager(secretId: string): Promise<string>;
  ssm(name: string): Promise<string>;
}

/** The environment with each setting PHOTOCAT_SECRETS names read from its store (the env is not changed). */
export async function withSecrets(
  env: NodeJS.ProcessEnv,
  readers: SecretReaders = awsSecretReaders(),
): Promise<NodeJS.ProcessEnv> {
  const raw = env.PHOTOCAT_SECRETS;
  if (!raw) return env;
  let refs: unknown;
  try {
    refs = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(
      'PHOTOCAT_SECRETS must be JSON like {"PHOTOCAT_PASSWORD":"secretsmanager:name"}',
    );
  }
  if (typeof refs !== "object" || refs === null || Array.isArray(refs)) {
    throw new ConfigurationError("PHOTOCAT_SECRETS must be a JSON object of setting name -> secret");
  }
  const resolved: NodeJS.ProcessEnv = { ...env };
  await Promise.all(
    Object.entries(refs).map(async ([setting, ref]) => {
      const match = typeof ref === "string" ? /^(secretsmanager|ssm):(.+)$/.exec(ref) : null;
      if (!match?.[1] || !match[2]) {
        throw new ConfigurationError(
          `PHOTOCAT_SECRETS: ${setting} must name secretsmanager:<secret> or ssm:<parameter> (got ${JSON.stringify(ref)})`,
        );
      }
      const [, store, id] = match;
      let value: string;
      try {
        value = store === "ssm" ? await readers.ssm(id) : await readers.secretsManager(id);
      } catch (error) {
        throw new ConfigurationError(
          `${setting}: could not read ${store} ${id}: ${(error as Error).message}`,
        );
      }
      // A trailing newline (echo ... | aws secretsmanager ...) is not part of a password.
      resolved[setting] = value.replace(/\r?\n$/, "");
    }),
  );
  return resolved;
}

/** Readers over the AWS SDK, loaded only when a secret is named (the region comes from Lambda's env). */
export function awsSecretReaders(): SecretReaders {
  return {
    async secretsManager(secretId) {
      const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
      const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
      if (typeof out.SecretString !== "string") throw new Error("the secret holds no text (SecretString)");
      return out.SecretString;
    },
    async ssm(name) {
      const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
      const out = await new SSMClient({}).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      const value = out.Parameter?.Value;
      if (typeof value !== "string") throw new Error("the parameter has no value");
      return value;
    },
  };
}
