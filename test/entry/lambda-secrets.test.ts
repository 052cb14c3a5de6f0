import { describe, expect, it } from "vitest";
import { type SecretReaders, withSecrets } from "../../src/entry/lambda/secrets.js";

const readers = (values: Record<string, string>): SecretReaders & { calls: string[] } => {
  const calls: string[] = [];
  const read = (store: string) => async (id: string) => {
    calls.push(`${store}:${id}`);
    const value = values[`${store}:${id}`];
    if (value === undefined)
      throw new Error("ResourceNotFoundException: Secrets Manager can't find the secret");
    return value;
  };
  return { calls, secretsManager: read("secretsmanager"), ssm: read("ssm") };
};

describe("Lambda settings read from Secrets Manager or SSM (PHOTOCAT_SECRETS)", () => {
  it("fills each named setting from its store and leaves the rest of the environment as it was", async () => {
    const env = {
      PHOTOCAT_SECRETS: JSON.stringify({
        PHOTOCAT_PASSWORD: "secretsmanager:photocat/password",
        PHOTOCAT_API_TOKENS: "ssm:/photocat/tokens",
      }),
      PHOTOCAT_MODEL: "m",
    };
    const r = readers({
      "secretsmanager:photocat/password": "correct horse battery\n",
      "ssm:/photocat/tokens": "a".repeat(24),
    });
    const resolved = await withSecrets(env, r);
    expect(resolved.PHOTOCAT_PASSWORD).toBe("correct horse battery");
    expect(resolved.PHOTOCAT_API_TOKENS).toBe("a".repeat(24));
    expect(resolved.PHOTOCAT_MODEL).toBe("m");
    expect(env).not.toHaveProperty("PHOTOCAT_PASSWORD");
    expect(r.calls.sort()).toEqual(["secretsmanager:photocat/password", "ssm:/photocat/tokens"]);
  });

  it("reads nothing when no secret is named", async () => {
    const r = readers({});
    const env = { PHOTOCAT_PASSWORD: "given directly" };
    expect(await withSecrets(env, r)).toBe(env);
    expect(r.calls).toEqual([]);
  });

  it("names the setting and the secret (never a value) when a secret cannot be read", async () => {
    const env = { PHOTOCAT_SECRETS: JSON.stringify({ PHOTOCAT_PASSWORD: "secretsmanager:missing" }) };
    await expect(withSecrets(env, readers({}))).rejects.toThrow(
      /PHOTOCAT_PASSWORD: could not read secretsmanager missing: ResourceNotFoundException/,
    );
  });

  it("refuses a malformed PHOTOCAT_SECRETS with what it must look like", async () => {
    await expect(withSecrets({ PHOTOCAT_SECRETS: "{" }, readers({}))).rejects.toThrow(/must be JSON/);
    await expect(withSecrets({ PHOTOCAT_SECRETS: "[]" }, readers({}))).rejects.toThrow(/JSON object/);
    await expect(
      withSecrets({ PHOTOCAT_SECRETS: JSON.stringify({ PHOTOCAT_PASSWORD: "vault:x" }) }, readers({})),
    ).rejects.toThrow(/secretsmanager:<secret> or ssm:<parameter>/);
  });
});
