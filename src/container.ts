import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createExiftoolWriter } from "./adapters/metadata/exiftool.js";
import type { Config } from "./config.js";
import { ConfigurationError } from "./domain/errors.js";
import { createLogger, type Logger } from "./logger.js";
import type { Analyser } from "./ports/analyser.js";
import type { BlobStore } from "./ports/blob-store.js";
import type { Catalog } from "./ports/catalog.js";
import type { DropZone } from "./ports/drop-zone.js";
import type { Embedder } from "./ports/embedder.js";
import type { JobQueue } from "./ports/job-queue.js";
import type { MetadataWriter } from "./ports/metadata-writer.js";
import type { VectorIndex } from "./ports/vector-index.js";
import { AlbumService } from "./services/albums.js";
import { embeddingModelKey } from "./services/embed.js";
import { ImageEvents } from "./services/events.js";
import { keepSidecarsInStep } from "./services/file-metadata.js";
import { GalleryService } from "./services/gallery.js";
import type { IncomingDeps } from "./services/incoming.js";
import type { IngestDeps, IngestLimits } from "./services/ingest.js";
import { MemoryVectorIndex } from "./services/similar.js";

/** The one place that picks adapters from the configuration. */
export interface Container {
  config: Config;
  logger: Logger;
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  events: ImageEvents;
  gallery: GalleryService;
  albums: AlbumService;
  ingestDeps: IngestDeps;
  ingestLimits: IngestLimits;
  /** The S3 drop zone (PHOTOCAT_DROP_ZONE_URL): direct uploads and files dropped into incoming/. */
  dropZone: DropZone | null;
  incomingDeps: IncomingDeps | null;
  /** The remote embedder (search by meaning), or null when none is configured. */
  embedder: Embedder | null;
  /** Where search by meaning looks for vectors: the database's own vector search, or the in-memory index. */
  vectors: VectorIndex;
  /** Loaded on first use: only workers and `analyse` need one. */
  analyser(): Promise<Analyser>;
  /** Writes descriptions into copies of photos (ExifTool, started on first use). */
  metadataWriter: MetadataWriter;
  close(): Promise<void>;
}

export interface ContainerOptions {
  logger?: Logger;
  /** Replaces the configured analyser (tests, benchmarks). */
  analyser?: Analyser;
  /** Replaces the configured embedder (tests, benchmarks); null for none. */
  embedder?: Embedder | null;
}

async function openStore(
  config: Config,
  logger: Logger,
): Promise<{
  catalog: Catalog;
  queue: JobQueue | null;
  vectors?: VectorIndex | null;
  close(): Promise<void>;
}> {
  const url = config.databaseUrl;
  if (url.startsWith("dynamodb://")) {
    // DynamoDB keeps the catalogue only: jobs go to the queue of PHOTOCAT_QUEUE_URL (openQueue).
    const { openDynamoStore, parseDynamoDbUrl } = await import("./adapters/dynamodb/index.js");
    const store = await openDynamoStore(parseDynamoDbUrl(url));
    return { ...store, queue: null };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { openPostgresStore } = await import("./adapters/postgres/index.js");
    return openPostgresStore({ url, logger });
  }
  const file = url.startsWith("sqlite:")
    ? url.slice("sqlite:".length)
    : url.startsWith("file:")
      ? fileURLToPath(url)
      : url;
  if (!file) throw new ConfigurationError("PHOTOCAT_DATABASE_URL: give sqlite:<path> or postgres://...");
  if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const { openSqliteStore } = await import("./adapters/sqlite/index.js");
  return openSqliteStore({ path: file, logger });
}

async function openBlobStore(config: Config): Promise<BlobStore> {
  const url = config.storageUrl;
  if (url.startsWith("s3://")) {
    const { createS3BlobStore } = await import("./adapters/blob/s3.js");
    const [bucket = "", ...prefix] = url.slice("s3://".length).split("/");
    if (!bucket)
      throw new ConfigurationError("PHOTOCAT_STORAGE_URL: s3:// needs a bucket, as in s3://bucket/prefix");
    return createS3BlobStore({
      bucket,
      prefix: prefix.join("/"),
      ...(config.s3.region ? { region: config.s3.region } : {}),
      // S3-compatible servers (MinIO, Garage...) are reached by path, as most need.
      ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith("file://")) {
    throw new ConfigurationError(
      `PHOTOCAT_STORAGE_URL: unsupported scheme in "${url}" (use a folder or s3://)`,
    );
  }
  const root = url.startsWith("file://") ? fileURLToPath(url) : path.resolve(url);
  mkdirSync(root, { recursive: true });
  const { createFsBlobStore } = await import("./adapters/blob/fs.js");
  return createFsBlobStore({ root });
}

async function openQueue(
  config: Config,
  store: { queue: JobQueue | null; catalog: Catalog },
): Promise<JobQueue> {
  const sqs = config.queue.sqs;
  if (!sqs) {
    if (store.queue) return store.queue;
    throw new ConfigurationError(
      "PHOTOCAT_DATABASE_URL=dynamodb://... keeps no job queue: set PHOTOCAT_QUEUE_URL=sqs://host/account/queue?jobs=<table>",
    );
  }
  const { createSqsJobQueue } = await import("./adapters/queue/sqs.js");
  return createSqsJobQueue({
    ...sqs,
    imageExists: async (id) => (await store.catalog.getImage(id)) !== null,
  });
}

async function openDropZone(config: Config): Promise<DropZone | null> {
  if (!config.dropZone) return null;
  const { createS3DropZone } = await import("./adapters/blob/s3-drop-zone.js");
  const { bucket, prefix, region, endpoint } = config.dropZone;
  return createS3DropZone({
    bucket,
    prefix,
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
  });
}

export async function createContainer(config: Config, options: ContainerOptions = {}): Promise<Container> {
  const logger = options.logger ?? createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore(config, logger);
  const blobs = await openBlobStore(config);
  const events = new ImageEvents();
  const { catalog } = store;
  const queue = await openQueue(config, store).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const dropZone = await openDropZone(config);
  const metadataWriter = createExiftoolWriter();
  const stopSidecars = config.storageSidecars ? keepSidecarsInStep({ events, queue, logger }) : () => {};
  let analyser: Promise<Analyser> | null = options.analyser ? Promise.resolve(options.analyser) : null;
  const embedder =
    options.embedder !== undefined
      ? options.embedder
      : await import("./analysers/embedders.js").then(({ createEmbedder }) =>
          createEmbedder(config, { logger }),
        );
  // PostgreSQL without pgvector and DynamoDB have no vector search of their own.
  const vectors = store.vectors ?? new MemoryVectorIndex(catalog);
  if (embedder)
    logger.info({ embedder: embeddingModelKey(embedder), vectors: vectors.kind }, "search by meaning");

  return {
    config,
    logger,
    catalog,
    queue,
    blobs,
    events,
    embedder,
    vectors,
    gallery: new GalleryService(
      { catalog, queue, blobs, events, meaning: embedder ? { embedder, vectors, logger } : null },
      config.taxonomy,
    ),
    albums: new AlbumService({ catalog }, config.taxonomy),
    ingestDeps: { catalog, queue, blobs, events, logger },
    dropZone,
    incomingDeps: dropZone
      ? {
          dropZone,
          ingest: { catalog, queue, blobs, events, logger },
          tmpDir: path.join(config.dataDir, "tmp"),
        }
      : null,
    ingestLimits: { maxBytes: config.maxUploadBytes, maxPixels: config.maxPixels },
    analyser: () => {
      analyser ??= import("./analysers/registry.js").then(({ createAnalyser }) =>
        createAnalyser(config, { logger }),
      );
      return analyser;
    },
    metadataWriter,
    close: async () => {
      stopSidecars();
      await metadataWriter.close();
      if (analyser) await (await analyser.catch(() => null))?.close?.();
      await embedder?.close?.();
      await blobs.close?.();
      await dropZone?.files.close?.();
      if (queue !== store.queue) await queue.close();
      await store.close();
    },
  };
}
