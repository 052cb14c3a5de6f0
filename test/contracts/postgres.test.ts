import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrations, openPostgresStore } from "../../src/adapters/postgres/index.js";
import type { SqlStore } from "../../src/adapters/sql/lifecycle.js";
import { migrate } from "../../src/adapters/sql/migrations.js";
import { silentLogger } from "../../src/logger.js";
import { runCatalogContract } from "./catalog.contract.js";
import { newImage } from "./fixtures.js";
import { runJobQueueContract } from "./job-queue.contract.js";

const URL = process.env.PHOTOCAT_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
// A fresh schema per run, dropped afterwards: runs never see each other's rows.
const SCHEMA = `photocat_test_${process.pid}_${Date.now().toString(36)}`;

async function unreachableReason(): Promise<string | null> {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (error) {
    return `PostgreSQL at ${URL.replace(/\/\/[^@]*@/, "//")} is unreachable (${error instanceof Error ? error.message : error}); set PHOTOCAT_TEST_POSTGRES_URL to run these tests`;
  } finally {
    await client.end().catch(() => {});
  }
}

const skipReason = await unreachableReason();
if (skipReason) console.warn(`[skip] ${skipReason}`);

async function freshStore() {
  const store = await openPostgresStore({ url: URL, schema: SCHEMA, poolSize: 12 });
  const admin = new pg.Client({ connectionString: URL, options: `-c search_path=${SCHEMA}` });
  await admin.connect();
  await admin.query("truncate images, jobs, embeddings, sessions cascade");
  await admin.end();
  return harness(store);
}

function harness(store: SqlStore) {
  return {
    catalog: store.catalog,
    queue: store.queue,
    addImage: async () => (await store.catalog.insertImage(newImage())).image.id,
    close: store.close,
  };
}

describe.skipIf(skipReason !== null)("postgres store", () => {
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`drop schema if exists "${SCHEMA}" cascade`);
    await admin.end();
  });

  runCatalogContract("postgres", freshStore);
  runJobQueueContract("postgres", freshStore);

  it("shares the queue between processes: every job claimed exactly once", async () => {
    const a = await freshStore();
    const b = harness(await openPostgresStore({ url: URL, schema: SCHEMA }));
    try {
      const ids = await Promise.all(Array.from({ length: 20 }, () => a.addImage()));
      for (const id of ids) await a.queue.enqueue("analyse", { imageId: id });
      const claimed: string[] = [];
      await Promise.all(
        [a, b].flatMap((store, s) =>
          Array.from({ length: 6 }, async (_, w) => {
            for (;;) {
              const job = await store.queue.claim(`store${s}-worker${w}`, 60_000);
              if (!job) return;
              claimed.push(job.imageId ?? "");
              await store.queue.complete(job.id, `store${s}-worker${w}`);
            }
          }),
        ),
      );
      expect(claimed.sort()).toEqual([...ids].sort());
      expect(await b.queue.counts()).toEqual({ queued: 0, running: 0, done: 20, failed: 0 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("migrates the jobs of an older database: each becomes an analyse job of its photo", async () => {
    const schema = `${SCHEMA}_old`;
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    try {
      const pool = new pg.Pool({ connectionString: URL, options: `-c search_path=${schema}` });
      const old = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      const before = Object.fromEntries(
        Object.entries(migrations).filter(([name]) => name < "0003_typed_jobs"),
      );
      await migrate(old, before, silentLogger(), "old", schema);
      await old.destroy();
      const imageId = newImage().id;
      await admin.query(
        `insert into "${schema}".images (id, sha256, status, original_name, media_type, byte_size, width, height,
           captured_at, created_at, updated_at) values ($1, 'abc', 'queued', 'a.jpg', 'image/jpeg', 1, 1, 1, 'x', 'x', 'x')`,
        [imageId],
      );
      await admin.query(
        `insert into "${schema}".jobs (id, image_id, state, attempts, max_attempts, run_at, created_at, updated_at)
         values ('job-1', $1, 'queued', 0, 5, 0, 'x', 'x')`,
        [imageId],
      );
      const migrated = await openPostgresStore({ url: URL, schema });
      await migrated.queue.enqueue("analyse", { imageId }); // still pending: a no-op
      expect(await migrated.queue.counts(["analyse"])).toMatchObject({ queued: 1 });
      expect(await migrated.queue.claim("w", 60_000)).toMatchObject({
        id: "job-1",
        kind: "analyse",
        payload: { imageId },
        imageId,
      });
      await migrated.close();
    } finally {
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    }
  });

  it("opens an already migrated schema, and concurrently", async () => {
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url: URL, schema: SCHEMA })));
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe("postgres store options", () => {
  it("says where it cannot connect, without the password", async () => {
    const error = await openPostgresStore({ url: "postgres://someone:secret@127.0.0.1:1/nowhere" }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toContain("cannot connect to 127.0.0.1:1/nowhere");
    expect(String(error)).not.toContain("secret");
  });

  it("refuses a schema name that is not a plain name", async () => {
    await expect(openPostgresStore({ url: URL, schema: 'x"; drop' })).rejects.toThrow(/plain SQL name/);
  });
});
