import { useCallback, useEffect, useState } from "preact/hooks";
import { type Filters, NO_FILTERS } from "../types.js";

export type View = "gallery" | "stats";

export interface Route {
  view: View;
  filters: Filters;
}

const FILTER_KEYS = ["q", "category", "status", "from", "to"] as const;

function read(): Route {
  const params = new URLSearchParams(window.location.search);
  const filters: Filters = { ...NO_FILTERS };
  for (const key of FILTER_KEYS) filters[key] = params.get(key)?.slice(0, 500) ?? "";
  const view: View = window.location.pathname.replace(/\/+$/, "") === "/stats" ? "stats" : "gallery";
  return { view, filters };
}

function toUrl(route: Route): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (route.filters[key]) params.set(key, route.filters[key]);
  const query = params.toString();
  return `${route.view === "stats" ? "/stats" : "/"}${query ? `?${query}` : ""}`;
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
      if (mode === "push") window.history.pushState(null, "", url);
      else window.history.replaceState(null, "", url);
    }
    setRoute(next);
  }, []);

  return [route, navigate];
}

export function sameFilters(a: Filters, b: Filters): boolean {
  return FILTER_KEYS.every((key) => a[key] === b[key]);
}

export function hasFilters(filters: Filters): boolean {
  return FILTER_KEYS.some((key) => filters[key] !== "");
}
