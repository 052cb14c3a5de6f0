import { handle, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import { createContainerApp } from "../app.js";
import { type ContainerSource, lambdaContainer } from "./container.js";

/** API Gateway HTTP API (payload v2) -> the same Hono app the Node server runs. */
export function createApiHandler(container: ContainerSource) {
  let served: Promise<ReturnType<typeof handle>> | null = null;
  return async (event: LambdaEvent, context?: LambdaContext) => {
    served ??= container().then((c) =>
      handle(createContainerApp(c, { version: process.env.PHOTOCAT_VERSION })),
    );
    return (await served)(event, context);
  };
}

export const handler = createApiHandler(lambdaContainer());
