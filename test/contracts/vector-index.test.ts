import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe } from "vitest";
import { openPostgresStore } from "../../src/adapters/postgres/index.js";
import { openSqliteStore } from "../../src/adapters/sqlite/index.js";
import { MemoryVectorIndex } from "../../src/services/similar.js";
import { runDatabaseVectorIndexContract, runVectorIndexContract } from "./vector-index.contract.js";

/** A SQLite file in a directory of its own, and a second store on it (another process's), removed when closed. */
async function sqliteStores() {
  const dir = await mkdtemp(path.join(tmpdir(), "photocat-vectors-"));
  const store = openSqliteStore({ path: path.join(dir, "catalog.db") });
  await store.ready;
  const other = openSqliteStore({ path: path.join(dir, "catalog.db") });
  await other.ready; // Its migration check holds the write lock for a moment.
  const close = async () => {
    await other.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { store, other: other.catalog, close };
}

async function sqliteVec() {
  const { store, other, close } = await sqliteStores();
  if (!store.vectors) throw new Error("sqlite-vec did not load on this platform");
  return { catalog: store.catalog, other, vectors: store.vectors, close };
}
runVectorIndexContract("sqlite-vec", sqliteVec);
runDatabaseVectorIndexContract("sqlite-vec", sqliteVec);

runVectorIndexContract("in-memory (the fallback)", async () => {
  const { store, other, close } = await sqliteStores();
  return { catalog: store.catalog, other, vectors: new MemoryVectorIndex(store.catalog), close };
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
  const other = await openPostgresStore({ url: URL, schema });
  const close = async () => {
    await other.close();
    await store.close();
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  };
  return { store, other: other.catalog, close };
}

const absent = await pgvectorAbsence();
const unreachable = absent?.includes("unreachable") ?? false;
if (unreachable) console.warn(`[skip] in-memory VectorIndex on PostgreSQL: ${absent}`);
describe.skipIf(unreachable)("postgres without pgvector", () => {
  runVectorIndexContract("in-memory on PostgreSQL", async () => {
    const { store, other, close } = await postgresStore();
    return { catalog: store.catalog, other, vectors: new MemoryVectorIndex(store.catalog), close };
  });
});

if (absent) console.warn(`[skip] pgvector VectorIndex contract: ${absent}`);
describe.skipIf(absent !== null)("pgvector", () => {
  // Reached only where pgvector is installed: the store must then search with it.
  const pgvector = async () => {
    const { store, other, close } = await postgresStore();
    if (store.vectors?.kind !== "pgvector") throw new Error("pgvector was not used");
    return { catalog: store.catalog, other, vectors: store.vectors, close };
  };
  runVectorIndexContract("pgvector", pgvector);
  runDatabaseVectorIndexContract("pgvector", pgvector);
});
