import { ConfigurationError } from "../../domain/errors.js";
import type { Catalog } from "../../ports/catalog.js";
import { createTableInput } from "./table.js";

export { CATALOG_TABLE, createTableInput, GSI_NAMES } from "./table.js";

export interface DynamoStoreOptions {
  table: string;
  /** The AWS region; the SDK's usual chain (AWS_REGION, profile) when absent. */
  region?: string;
  /** A DynamoDB-compatible endpoint (moto_server, dynalite, DynamoDB Local). */
  endpoint?: string;
  /** Creates the table with its indexes when it does not exist (local runs and tests; the stack creates it on AWS). */
  createTable?: boolean;
  /** Fixed credentials (local emulators); the SDK's chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Called with the capacity units each request consumed (benchmarks). */
  onCapacity?: (units: number, operation: string) => void;
}

export interface DynamoStore {
  catalog: Catalog;
  close(): Promise<void>;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * PHOTOCAT_DATABASE_URL=dynamodb://<table>?region=<region>&endpoint=<url>: the table (case kept), the region
 * and an endpoint for a local emulator (whose table is then created when missing).
 */
export function parseDynamoDbUrl(url: string): Omit<DynamoStoreOptions, "onCapacity" | "credentials"> {
  const rest = url.slice("dynamodb://".length);
  const [name = "", search = ""] = rest.split("?", 2);
  const table = decodeURIComponent(name.replace(/\/$/, ""));
  if (!TABLE_NAME.test(table)) {
    throw new ConfigurationError(
      `PHOTOCAT_DATABASE_URL: give dynamodb://<table>?region=<region> (a table name is 3-255 of letters, digits, _ . -; got "${table}")`,
    );
  }
  const params = new URLSearchParams(search);
  const unknown = [...params.keys()].filter((k) => k !== "region" && k !== "endpoint");
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `PHOTOCAT_DATABASE_URL: dynamodb:// takes region and endpoint, not ${unknown.join(", ")}`,
    );
  }
  const region = params.get("region");
  const endpoint = params.get("endpoint");
  return {
    table,
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint, createTable: true } : {}),
  };
}

/** Opens the catalogue on a DynamoDB table (see table.ts for its design); the SDK is loaded here, on first use. */
export async function openDynamoStore(options: DynamoStoreOptions): Promise<DynamoStore> {
  if (!options.table) throw new ConfigurationError("DynamoDB catalogue: missing option table");
  if (!TABLE_NAME.test(options.table)) {
    throw new ConfigurationError(
      `DynamoDB catalogue: "${options.table}" is not a table name (3-255 of letters, digits, _ . -)`,
    );
  }
  if (options.endpoint && !/^https?:\/\//.test(options.endpoint)) {
    throw new ConfigurationError(
      `DynamoDB catalogue: endpoint must be an http(s) URL (got "${options.endpoint}")`,
    );
  }
  const [
    { DynamoDBClient, CreateTableCommand, DescribeTableCommand, waitUntilTableExists },
    { createDynamoCatalog },
  ] = await Promise.all([import("@aws-sdk/client-dynamodb"), import("./catalog.js")]);
  const client = new DynamoDBClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  try {
    if (options.createTable) {
      const exists = await client
        .send(new DescribeTableCommand({ TableName: options.table }))
        .then(() => true)
        .catch((error: { name?: string }) => {
          if (error.name === "ResourceNotFoundException") return false;
          throw error;
        });
      if (!exists) {
        await client.send(new CreateTableCommand(createTableInput(options.table))).catch((error) => {
          // Another process created it meanwhile.
          if ((error as { name?: string }).name !== "ResourceInUseException") throw error;
        });
        await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: options.table });
      }
    }
  } catch (error) {
    client.destroy();
    throw new ConfigurationError(
      `DynamoDB catalogue: cannot open table ${options.table}${options.endpoint ? ` at ${options.endpoint}` : ""}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  const close = async () => client.destroy();
  const catalog = createDynamoCatalog({
    client,
    table: options.table,
    close,
    ...(options.onCapacity ? { onCapacity: options.onCapacity } : {}),
  });
  return { catalog, close };
}
