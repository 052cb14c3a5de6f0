import { tmpdir } from "node:os";
import path from "node:path";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DYNAMODB_CAPABILITIES } from "../../src/adapters/dynamodb/catalog.js";
import { openDynamoStore, parseDynamoDbUrl } from "../../src/adapters/dynamodb/index.js";
import { loadConfig } from "../../src/config.js";
import { createContainer } from "../../src/container.js";
import { runCatalogContract } from "./catalog.contract.js";
import { analysis, newImage } from "./fixtures.js";
import { motoUnavailable, startMotoServer } from "./moto-server.js";

// DynamoDB transactions are needed (dynalite has none): the suite runs against moto_server.
const skipReason = motoUnavailable();
if (skipReason) console.warn(`[skip] dynamodb catalogue: ${skipReason}`);

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
let server: Awaited<ReturnType<typeof startMotoServer>> | null = null;
let tables = 0;

async function freshStore() {
  if (!server) throw new Error("moto_server is not running");
  const table = `photocat-test-${process.pid}-${++tables}`;
  const endpoint = server.endpoint;
  const store = await openDynamoStore({
    table,
    endpoint,
    region: "us-east-1",
    credentials,
    createTable: true,
  });
  return {
    catalog: store.catalog,
    close: async () => {
      await store.close();
      const admin = new DynamoDBClient({ endpoint, region: "us-east-1", credentials });
      await admin.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
      admin.destroy();
    },
  };
}

describe.skipIf(skipReason !== null)("dynamodb catalogue", () => {
  beforeAll(async () => {
    server = await startMotoServer();
  }, 40_000);
  afterAll(async () => {
    await server?.stop();
  });

  runCatalogContract("dynamodb", freshStore, DYNAMODB_CAPABILITIES);

  it("pages a search whose words are each on more photos than a page, from the longest word's items", async () => {
    const store = await freshStore();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { image } = await store.catalog.insertImage(newImage());
        const summary = i % 2 === 0 ? "A harbour crane at dusk." : "A harbour crane, idle.";
        await store.catalog.saveAnalysis(
          image.id,
          analysis({ summary: i < 4 ? summary : "A harbour." }),
          `j${i}`,
        );
        ids.push(image.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.catalog.listImages({ limit: 1, q: "crane harbo", cursor });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen.sort()).toEqual(ids.slice(0, 4).sort());
      expect((await store.catalog.listImages({ limit: 2, q: "harbour dusk" })).items).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it("answers not_implemented for albums, naming what is missing", async () => {
    const store = await freshStore();
    try {
      await expect(store.catalog.listAlbums()).rejects.toMatchObject({ code: "not_implemented" });
      const { image } = await store.catalog.insertImage(newImage());
      await expect(
        store.catalog.changeImages([image.id], { kind: "addToAlbum", albumId: image.id }),
      ).rejects.toThrow(/does not support albums/);
    } finally {
      await store.close();
    }
  });
});

describe("dynamodb catalogue options", () => {
  it("reads the table, region and endpoint from PHOTOCAT_DATABASE_URL", () => {
    expect(parseDynamoDbUrl("dynamodb://Photocat-Catalog?region=eu-west-1")).toEqual({
      table: "Photocat-Catalog",
      region: "eu-west-1",
    });
    expect(parseDynamoDbUrl("dynamodb://photos?endpoint=http://127.0.0.1:8000")).toEqual({
      table: "photos",
      endpoint: "http://127.0.0.1:8000",
      createTable: true,
    });
    expect(() => parseDynamoDbUrl("dynamodb://")).toThrow(/dynamodb:\/\/<table>/);
    expect(() => parseDynamoDbUrl("dynamodb://photos?regoin=x")).toThrow(/not regoin/);
  });

  it("says the container needs a job queue for a DynamoDB catalogue", async () => {
    const config = loadConfig({
      PHOTOCAT_DATABASE_URL: "dynamodb://photos?region=eu-west-1",
      PHOTOCAT_DATA_DIR: path.join(tmpdir(), "photocat-dynamodb-config"),
    });
    await expect(createContainer(config)).rejects.toThrow(/PHOTOCAT_QUEUE_URL/);
  });

  it("refuses a bad table name and endpoint before any request", async () => {
    await expect(openDynamoStore({ table: "x" })).rejects.toThrow(/not a table name/);
    await expect(openDynamoStore({ table: "photos", endpoint: "localhost:8000" })).rejects.toThrow(/http/);
  });
});
