import { useCallback, useEffect, useState } from "preact/hooks";
import { type Filters, NO_FILTERS } from "../types.js";

export type View = "gallery" | "stats" | "trash" | "albums" | "map" | "duplicates";

export interface Route {
  view: View;
  filters: Filters;
  /** The open photo (/photos/<id>), so it can be linked, bookmarked and reloaded; Back closes it. */
  photo?: string | null;
}

const PHOTO_PATH = /^\/photos\/([^/]+)$/;
const ALBUM_PATH = /^\/albums\/([^/]+)$/;
const VIEWS: readonly View[] = ["stats", "trash", "albums", "map", "duplicates"];

/** Set on the history entry that opening a photo pushes: closing it then goes Back instead of forward. */
const OPENED_HERE = "photocat:opened";

const FILTER_KEYS = ["q", "category", "status", "from", "to", "place", "album", "order"] as const;
/** What "Clear filters" clears: the album shown and the order stay. */
const NARROWING_KEYS = ["q", "category", "status", "from", "to", "place"] as const;

function read(): Route {
  const params = new URLSearchParams(window.location.search);
  const filters: Filters = { ...NO_FILTERS };
  for (const key of FILTER_KEYS) filters[key] = params.get(key)?.slice(0, 500) ?? "";
  const pathname = window.location.pathname.replace(/\/+$/, "");
  const photo = PHOTO_PATH.exec(pathname)?.[1];
  if (photo) return { view: "gallery", filters, photo: decodeURIComponent(photo) };
  const album = ALBUM_PATH.exec(pathname)?.[1];
  if (album)
    return { view: "gallery", filters: { ...filters, album: decodeURIComponent(album) }, photo: null };
  const view = VIEWS.find((v) => pathname === `/${v}`) ?? "gallery";
  return { view, filters, photo: null };
}

function toUrl(route: Route): string {
  const params = new URLSearchParams();
  const inAlbumPath = route.view === "gallery" && !route.photo && route.filters.album;
  for (const key of FILTER_KEYS) {
    if (route.filters[key] && !(key === "album" && inAlbumPath)) params.set(key, route.filters[key]);
  }
  const query = params.toString();
  const pathname =
    route.view !== "gallery"
      ? `/${route.view}`
      : route.photo
        ? `/photos/${encodeURIComponent(route.photo)}`
        : inAlbumPath
          ? `/albums/${encodeURIComponent(route.filters.album)}`
          : "/";
  return `${pathname}${query ? `?${query}` : ""}`;
}

/** The view and filters live in the URL, so a search can be bookmarked and Back works. */
export function useRoute(): [Route, (next: Route, mode?: "push" | "replace") => void] {
  const [route, setRoute] = useState<Route>(read);

  useEffect(() => {
    const onPop = () => setRoute(read());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const navigate = useCallback((next: Route, mode: "push" | "replace" = "push") => {
    const url = toUrl(next);
    if (url !== `${window.location.pathname}${window.location.search}`) {
      const current = window.history.state as Record<string, unknown> | null;
      if (mode === "push") window.history.pushState(next.photo ? { [OPENED_HERE]: true } : null, "", url);
      // Moving to the next photo keeps the entry's mark: closing still goes Back to the gallery.
      else window.history.replaceState(next.photo ? current : null, "", url);
    }
    setRoute(next);
  }, []);

  return [route, navigate];
}

/** Whether the open photo's history entry was pushed by opening it here (not a link or a reload). */
export function openedHere(): boolean {
  const state = window.history.state as Record<string, unknown> | null;
  return state?.[OPENED_HERE] === true;
}

export function sameFilters(a: Filters, b: Filters): boolean {
  return FILTER_KEYS.every((key) => a[key] === b[key]);
}

/** Whether the filters narrow what is shown (an album and an order do not). */
export function hasFilters(filters: Filters): boolean {
  return NARROWING_KEYS.some((key) => filters[key] !== "");
}

/** The same album and order, nothing else. */
export function withoutFilters(filters: Filters): Filters {
  return { ...NO_FILTERS, album: filters.album, order: filters.order };
}
