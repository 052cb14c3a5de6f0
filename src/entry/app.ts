import type { Container } from "../container.js";
import { createApp } from "../http/app.js";

/** The HTTP app over a container's services: the Node server and the API Lambda serve this same app. */
export function createContainerApp(
  container: Container,
  options: { webRoot?: string; version?: string } = {},
) {
  return createApp({
    config: container.config,
    gallery: container.gallery,
    albums: container.albums,
    sessions: container.catalog,
    ingestDeps: container.ingestDeps,
    ingestLimits: container.ingestLimits,
    blobs: container.blobs,
    metadataWriter: container.metadataWriter,
    events: container.events,
    logger: container.logger,
    dropZone: container.dropZone,
    ...options,
  });
}
