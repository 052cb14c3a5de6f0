import pg from "pg";
import { describe } from "vitest";
import { openPostgresStore } from "../../src/adapters/postgres/index.js";
import { openSqliteStore } from "../../src/adapters/sqlite/index.js";
import { MemoryVectorIndex } from "../../src/services/similar.js";
import { runVectorIndexContract } from "./vector-index.contract.js";

runVectorIndexContract("sqlite-vec", async () => {
  const store = openSqliteStore({ path: ":memory:" });
  if (!store.vectors) throw new Error("sqlite-vec did not load on this platform");
  return { catalog: store.catalog, vectors: store.vectors, close: store.close };
});

runVectorIndexContract("in-memory (the fallback)", async () => {
  const store = openSqliteStore({ path: ":memory:" });
  return { catalog: store.catalog, vectors: new MemoryVectorIndex(store.catalog), close: store.close };
});

const URL = process.env.PHOTOCAT_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

async function pgvectorAbsence(): Promise<string | null> {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query("select 1 from pg_available_extensions where name = 'vector'");
    return rows.length > 0
      ? null
      : "the pgvector extension is not installed on this PostgreSQL (pg_available_extensions has no 'vector')";
  } catch (error) {
    return `PostgreSQL at ${URL.replace(/\/\/[^@]*@/, "//")} is unreachable (${error instanceof Error ? error.message : error})`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A store in a schema of its own, dropped when closed. */
async function postgresStore() {
  const schema = `photocat_vec_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const store = await openPostgresStore({ url: URL, schema });
  const close = async () => {
    await store.close();
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  };
  return { store, close };
}

const absent = await pgvectorAbsence();
const unreachable = absent?.includes("unreachable") ?? false;
if (unreachable) console.warn(`[skip] in-memory VectorIndex on PostgreSQL: ${absent}`);
describe.skipIf(unreachable)("postgres without pgvector", () => {
  runVectorIndexContract("in-memory on PostgreSQL", async () => {
    const { store, close } = await postgresStore();
    return { catalog: store.catalog, vectors: new MemoryVectorIndex(store.catalog), close };
  });
});

if (absent) console.warn(`[skip] pgvector VectorIndex contract: ${absent}`);
describe.skipIf(absent !== null)("pgvector", () => {
  // Reached only where pgvector is installed: the store must then search with it.
  runVectorIndexContract("pgvector", async () => {
    const { store, close } = await postgresStore();
    if (store.vectors?.kind !== "pgvector") throw new Error("pgvector was not used");
    return { catalog: store.catalog, vectors: store.vectors, close };
  });
});
