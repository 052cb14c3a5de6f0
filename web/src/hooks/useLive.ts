import { useEffect, useRef } from "preact/hooks";
import { getPhoto } from "../api.js";
import type { Photo } from "../types.js";

interface LiveHandlers {
  onPhoto: (photo: Photo) => void;
  onDeleted: (id: string) => void;
  /** Ids of photos still being described: polled when server-sent events are unavailable. */
  pendingIds: () => string[];
}

const POLL_MS = 3000;
const POLL_BATCH = 20;

function parse<T>(data: string): T | null {
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}

/** Keeps photos current: server-sent events, and polling of pending photos while the stream is down. */
export function useLive(enabled: boolean, handlers: LiveHandlers): void {
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | null = null;
    let pollTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const poll = async () => {
      pollTimer = undefined;
      if (stopped || source?.readyState === EventSource.OPEN) return;
      const ids = latest.current.pendingIds().slice(0, POLL_BATCH);
      await Promise.all(
        ids.map((id) =>
          getPhoto(id).then(
            (photo) => latest.current.onPhoto(photo),
            (error: unknown) => {
              if (error && typeof error === "object" && "status" in error && error.status === 404) {
                latest.current.onDeleted(id);
              }
            },
          ),
        ),
      );
      if (!stopped) pollTimer = setTimeout(poll, POLL_MS);
    };
    const startPolling = () => {
      if (pollTimer === undefined) pollTimer = setTimeout(poll, POLL_MS);
    };

    if (typeof EventSource === "function") {
      source = new EventSource("/api/events", { withCredentials: true });
      source.addEventListener("image", (event) => {
        const photo = parse<Photo>((event as MessageEvent<string>).data);
        if (photo && typeof photo.id === "string") latest.current.onPhoto(photo);
      });
      source.addEventListener("deleted", (event) => {
        const body = parse<{ id?: unknown }>((event as MessageEvent<string>).data);
        if (body && typeof body.id === "string") latest.current.onDeleted(body.id);
      });
      source.addEventListener("open", () => {
        // Catch up on anything that finished while the stream was down.
        for (const id of latest.current.pendingIds().slice(0, POLL_BATCH)) {
          getPhoto(id).then(latest.current.onPhoto, () => {});
        }
      });
      source.addEventListener("error", startPolling);
    } else {
      startPolling();
    }

    return () => {
      stopped = true;
      source?.close();
      if (pollTimer !== undefined) clearTimeout(pollTimer);
    };
  }, [enabled]);
}
