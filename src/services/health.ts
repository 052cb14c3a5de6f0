import { randomUUID } from "node:crypto";
import { statfs } from "node:fs/promises";
import { errorMessage, storageFailure } from "../domain/errors.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";

export interface HealthDeps {
  catalog: Catalog;
  blobs: BlobStore;
  /** A local folder whose free space is reported (the data folder). */
  dataDir: string;
}

export interface CheckResult {
  ok: boolean;
  error?: string;
}

export interface HealthReport {
  status: "ok" | "degraded";
  checks: { database: CheckResult; storage: CheckResult };
  /** Free space in the data folder, when the platform tells. */
  disk: { free_bytes: number; low: boolean } | null;
}

/** Below this much free space in the data folder, the report says so (uploads will soon fail). */
export const LOW_DISK_BYTES = 64 * 1024 * 1024;

const PROBE_CACHE_MS = 5_000;

async function probe(action: () => Promise<unknown>, what: string): Promise<CheckResult> {
  try {
    await action();
    return { ok: true };
  } catch (error) {
    return {
      ok: false,
      error: storageFailure(error, `write to the ${what}`)?.message ?? errorMessage(error),
    };
  }
}

/**
 * Proves that the database and the photo store accept writes, as a full disk or a read-only mount
 * shows only when something is written. Results are kept for a few seconds, so a load balancer polling
 * /healthz does not turn into a stream of writes.
 */
export class HealthService {
  #last: { at: number; report: Promise<HealthReport> } | null = null;

  constructor(private readonly deps: HealthDeps) {}

  check(): Promise<HealthReport> {
    if (this.#last && Date.now() - this.#last.at < PROBE_CACHE_MS) return this.#last.report;
    const report = this.#checkNow();
    this.#last = { at: Date.now(), report };
    return report;
  }

  async #checkNow(): Promise<HealthReport> {
    const key = `health/${randomUUID()}.probe`;
    const [database, storage, disk] = await Promise.all([
      probe(() => this.deps.catalog.probeWrite(), "database"),
      probe(async () => {
        try {
          await this.deps.blobs.put(key, Buffer.from("ok"), "text/plain");
        } finally {
          await this.deps.blobs.delete(key).catch(() => {});
        }
      }, "photo store"),
      statfs(this.deps.dataDir).then(
        (s) => ({ free_bytes: s.bavail * s.bsize, low: s.bavail * s.bsize < LOW_DISK_BYTES }),
        () => null,
      ),
    ]);
    return { status: database.ok && storage.ok ? "ok" : "degraded", checks: { database, storage }, disk };
  }
}
