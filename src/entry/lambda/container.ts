import { loadConfig } from "../../config.js";
import { type Container, createContainer } from "../../container.js";
import { withSecrets } from "./secrets.js";

/** Builds a container on first use and keeps it for the life of the Lambda instance. */
export type ContainerSource = () => Promise<Container>;

/**
 * The container of this Lambda instance, from its environment and the secrets it names (PHOTOCAT_SECRETS,
 * see secrets.ts). Only /tmp is writable in Lambda, so the data folder (temporary files) defaults to it.
 */
export function lambdaContainer(env: NodeJS.ProcessEnv = process.env): ContainerSource {
  let container: Promise<Container> | null = null;
  return () => {
    container ??= withSecrets(env)
      .then((settings) =>
        createContainer(loadConfig(settings, {}, { defaults: { PHOTOCAT_DATA_DIR: "/tmp/photocat" } })),
      )
      .catch((error: unknown) => {
        container = null; // The next invocation tries again instead of failing forever.
        throw error;
      });
    return container;
  };
}
