import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, listPhotos } from "../api.js";
import type { Filters, Photo } from "../types.js";

const PAGE_SIZE = 100;

export interface Feed {
  items: Photo[];
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  /** True once the first page for the current filters has arrived. */
  loaded: boolean;
  loadMore: () => void;
  reload: () => void;
  /** Puts a photo in place (or at the top when new and `insertIfNew`). */
  upsert: (photo: Photo, insertIfNew: boolean) => void;
  remove: (id: string) => void;
}

/** True when `incoming` is an older version of `current` (same-millisecond ties favour a finished state). */
function isStale(incoming: Photo, current: Photo): boolean {
  if (!incoming.updated_at || !current.updated_at) return false;
  if (incoming.updated_at !== current.updated_at) return incoming.updated_at < current.updated_at;
  const finished = (p: Photo) => p.status === "done" || p.status === "failed";
  return finished(current) && !finished(incoming);
}

/** The API's order: newest first, ties by id (descending). */
function comesBefore(a: Photo, b: Photo): boolean {
  return a.created_at !== b.created_at ? a.created_at > b.created_at : a.id > b.id;
}

/** The photos for the current filters, fetched page by page on the API's cursor. */
export function useFeed(filters: Filters): Feed {
  const [items, setItems] = useState<Photo[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  // A request for an older filter set must not write into the list of the new one.
  const requestId = useRef(0);
  const inFlight = useRef(false);
  const hasMoreRef = useRef(hasMore);
  hasMoreRef.current = hasMore;

  const fetchPage = useCallback(
    (from: string | null, replace: boolean) => {
      const id = ++requestId.current;
      inFlight.current = true;
      setLoading(true);
      setError(null);
      listPhotos(filters, from, PAGE_SIZE).then(
        (page) => {
          if (id !== requestId.current) return;
          inFlight.current = false;
          setItems((previous) => {
            if (replace) return page.items;
            const seen = new Set(previous.map((p) => p.id));
            return previous.concat(page.items.filter((p) => !seen.has(p.id)));
          });
          setCursor(page.next_cursor);
          setHasMore(page.next_cursor !== null);
          setLoading(false);
          setLoaded(true);
        },
        (reason: unknown) => {
          if (id !== requestId.current) return;
          inFlight.current = false;
          setLoading(false);
          setLoaded(true);
          setError(reason instanceof ApiError ? reason.message : "Photos could not be loaded.");
        },
      );
    },
    [filters],
  );
  useEffect(() => {
    setItems([]);
    setCursor(null);
    setHasMore(true);
    setLoaded(false);
    fetchPage(null, true);
  }, [fetchPage, generation]);

  const loadMore = useCallback(() => {
    if (inFlight.current || !hasMore || error) return;
    fetchPage(cursor, false);
  }, [cursor, hasMore, error, fetchPage]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  const upsert = useCallback((photo: Photo, insertIfNew: boolean) => {
    setItems((previous) => {
      const index = previous.findIndex((p) => p.id === photo.id);
      if (index === -1) {
        if (!insertIfNew) return previous;
        // In its place among the loaded photos (newest first, as the API orders them: a restored photo
        // goes back where it was); one older than the last loaded photo belongs to a page not loaded yet.
        const at = previous.findIndex((p) => comesBefore(photo, p));
        if (at === -1) return hasMoreRef.current ? previous : [...previous, photo];
        return [...previous.slice(0, at), photo, ...previous.slice(at)];
      }
      const current = previous[index]!;
      if (isStale(photo, current)) return previous;
      const next = previous.slice();
      next[index] = photo;
      return next;
    });
  }, []);

  const remove = useCallback((id: string) => {
    setItems((previous) => previous.filter((p) => p.id !== id));
  }, []);

  return { items, hasMore, loading, error, loaded, loadMore, reload, upsert, remove };
}
