import { lazy, Suspense } from "preact/compat";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  ApiError,
  countTrash,
  createAlbum,
  getAlbum,
  getPhoto,
  getSession,
  getStats,
  listCategories,
  reanalysePhoto,
  restorePhoto,
  setDirectUpload,
  setUnauthorisedListener,
  signOut,
} from "./api.js";
import { AlbumHeader } from "./components/AlbumHeader.js";
import { AlbumsView } from "./components/AlbumsView.js";
import { PromptDialog } from "./components/Dialogs.js";
import { DuplicatesView } from "./components/DuplicatesView.js";
import { CategoryChips, MoreFilters } from "./components/FilterBar.js";
import { Header } from "./components/Header.js";
import { AlbumIcon, SelectIcon, UploadIcon } from "./components/Icons.js";
import { LoginPage } from "./components/LoginPage.js";
import { PhotoDialog } from "./components/PhotoDialog.js";
import { PhotoGrid } from "./components/PhotoGrid.js";
import { SelectionBar } from "./components/SelectionBar.js";
import { StatsView } from "./components/StatsView.js";
import { endOfMonth, monthLabel, TimelineRail } from "./components/TimelineRail.js";
import { Toast, type ToastAction, type ToastMessage } from "./components/Toast.js";
import { TrashView } from "./components/TrashView.js";
import { UploadTray } from "./components/UploadTray.js";
import { isPending, plural } from "./format.js";
import { useFeed } from "./hooks/useFeed.js";
import { useLive } from "./hooks/useLive.js";
import { hasFilters, openedHere, useRoute, type View, withoutFilters } from "./hooks/useRoute.js";
import { useSelection } from "./hooks/useSelection.js";
import { useUploads } from "./hooks/useUploads.js";
import {
  type Album,
  type CategoryCount,
  type Filters,
  NO_FILTERS,
  type Photo,
  SEARCH_KEYS,
} from "./types.js";

// The map and its world outline load only when the map is opened.
const MapView = lazy(() => import("./components/MapView.js"));

type SessionState = "checking" | "login" | "open" | "signed-in";

/** Whether a photo that arrives live belongs at the top of the current view. */
function belongsInView(filters: Filters, photo: Photo): boolean {
  if (filters.q || filters.from || filters.to || filters.album || filters.order) return false;
  if (filters.place && filters.place !== photo.place) return false;
  if (filters.category && filters.category !== photo.category) return false;
  if (filters.status && filters.status !== photo.status) return false;
  return true;
}

export function App() {
  const [session, setSession] = useState<SessionState>("checking");

  useEffect(() => {
    setUnauthorisedListener(() => setSession("login"));
    getSession().then(
      (s) => {
        setDirectUpload(s.direct_upload);
        setSession(s.required ? (s.authenticated ? "signed-in" : "login") : "open");
      },
      // A server without sessions (or an older one) simply has no login.
      (error: unknown) => setSession(error instanceof ApiError && error.status === 401 ? "login" : "open"),
    );
  }, []);

  if (session === "checking") return <div class="boot" aria-busy="true" />;
  if (session === "login") return <LoginPage onSignedIn={() => setSession("signed-in")} />;
  return (
    <Gallery
      onSignOut={
        session === "signed-in"
          ? () => {
              signOut().finally(() => setSession("login"));
            }
          : null
      }
    />
  );
}

function Gallery({ onSignOut }: { onSignOut: (() => void) | null }) {
  const [route, navigate] = useRoute();
  const filterKey = JSON.stringify(route.filters);
  const filters = useMemo(() => route.filters, [filterKey]);
  const feed = useFeed(filters);
  const [categories, setCategories] = useState<CategoryCount[]>([]);
  const [totalPhotos, setTotalPhotos] = useState<number | null>(null);
  const openId = route.view === "gallery" ? (route.photo ?? null) : null;
  // The open photo when it is not among the loaded photos (a link to it, or it does not match the filters).
  const [linked, setLinked] = useState<Photo | null>(null);
  const [focusId, setFocusId] = useState<string | null>(null);
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const [trashCount, setTrashCount] = useState<{ count: number; more: boolean } | null>(null);
  const [dragging, setDragging] = useState(false);
  const [statsKey, setStatsKey] = useState(0);
  const categoryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const countsRound = useRef(0);
  const [album, setAlbum] = useState<Album | null>(null);
  const [savingSearch, setSavingSearch] = useState(false);
  const selection = useSelection(() => latestItems.current.map((p) => p.id));

  const toastId = useRef(0);
  const announce = useCallback((text: string, action?: ToastAction) => {
    toastId.current += 1;
    setToast({ text, action, id: toastId.current });
  }, []);
  const dismissToast = useCallback(() => setToast(null), []);

  const refreshCategories = useCallback((delayMs = 0) => {
    // A refresh already due covers this change too. Pushing it back on every event would starve the counts
    // for as long as events keep coming (a large import), so changes wait at most `delayMs`.
    if (categoryTimer.current !== undefined && delayMs > 0) return;
    clearTimeout(categoryTimer.current);
    categoryTimer.current = setTimeout(() => {
      categoryTimer.current = undefined;
      // Answers of an older refresh that arrive late must not overwrite a newer one's.
      const round = ++countsRound.current;
      const latest =
        <T,>(apply: (value: T) => void) =>
        (value: T) => {
          if (round === countsRound.current) apply(value);
        };
      listCategories().then(latest(setCategories), () => {});
      // "All" counts every photo, described or not; the categories only count described ones.
      getStats().then(
        latest((stats) => setTotalPhotos(stats.images)),
        () => {},
      );
      countTrash().then(latest(setTrashCount), () => {});
      setStatsKey((k) => k + 1);
    }, delayMs);
  }, []);

  useEffect(() => refreshCategories(), [refreshCategories]);

  // Selecting is for one view: another view, filter or album starts afresh.
  const selectionStop = selection.stop;
  useEffect(() => selectionStop(), [route.view, filterKey, selectionStop]);

  // The album shown, its name, count and cover, fetched again when photos change.
  useEffect(() => {
    if (!filters.album) {
      setAlbum(null);
      return;
    }
    let cancelled = false;
    getAlbum(filters.album).then(
      (found) => {
        if (!cancelled) setAlbum(found);
      },
      (error: unknown) => {
        if (cancelled) return;
        announce(error instanceof ApiError ? error.message : "The album could not be opened.");
        navigate({ view: "albums", filters: NO_FILTERS }, "replace");
      },
    );
    return () => {
      cancelled = true;
    };
  }, [filters.album, statsKey, announce, navigate]);

  // Esc leaves selection mode (a dialog, when open, takes Esc for itself).
  useEffect(() => {
    if (!selection.active) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || document.querySelector("dialog[open]")) return;
      selectionStop();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [selection.active, selectionStop]);

  const latestItems = useRef(feed.items);
  latestItems.current = feed.items;
  const latestFilters = useRef(filters);
  latestFilters.current = filters;
  const deleted = useRef(new Set<string>());
  const latestRoute = useRef(route);
  latestRoute.current = route;

  const openPhotoById = useCallback(
    (id: string) => navigate({ ...latestRoute.current, view: "gallery", photo: id }),
    [navigate],
  );
  /** Closing goes Back when opening pushed the entry (so Forward reopens it), else replaces the photo's URL. */
  const closePhoto = useCallback(() => {
    if (!latestRoute.current.photo) return;
    if (openedHere()) window.history.back();
    else navigate({ ...latestRoute.current, photo: null }, "replace");
  }, [navigate]);

  const { uploads, addFiles, clearFinished, track, describingIds } = useUploads((photo) => {
    feed.upsert(photo, belongsInView(latestFilters.current, photo));
    refreshCategories(200);
  });

  const forget = (id: string) => {
    // Trashed here: the dialog is closing already, and a second close before its popstate would go Back twice.
    const closedHere = deleted.current.has(id);
    deleted.current.add(id);
    feed.remove(id);
    if (!closedHere && latestRoute.current.photo === id) closePhoto();
    refreshCategories(400);
  };

  useLive(true, {
    onPhoto: (photo) => {
      // Polling reads a photo that was trashed meanwhile: it has left the library.
      if (photo.trashed_at) {
        forget(photo.id);
        return;
      }
      deleted.current.delete(photo.id);
      feed.upsert(photo, belongsInView(latestFilters.current, photo));
      track(photo);
      setLinked((current) => (current?.id === photo.id ? photo : current));
      refreshCategories(400);
    },
    onDeleted: forget,
    pendingIds: () => [
      ...new Set([...latestItems.current.filter(isPending).map((p) => p.id), ...describingIds()]),
    ],
  });

  const onFiles = useCallback(
    (files: File[]) => {
      if (files.length === 0) return;
      addFiles(files);
      if (route.view !== "gallery") navigate({ ...route, view: "gallery" });
    },
    [addFiles, navigate, route],
  );

  // Drop files anywhere on the page.
  useEffect(() => {
    let depth = 0;
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes("Files") ?? false;
    const onEnter = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      depth += 1;
      setDragging(true);
    };
    const onLeave = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const onOver = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    };
    const onDrop = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setDragging(false);
      onFiles(Array.from(event.dataTransfer?.files ?? []));
    };
    window.addEventListener("dragenter", onEnter);
    window.addEventListener("dragleave", onLeave);
    window.addEventListener("dragover", onOver);
    window.addEventListener("drop", onDrop);
    return () => {
      window.removeEventListener("dragenter", onEnter);
      window.removeEventListener("dragleave", onLeave);
      window.removeEventListener("dragover", onOver);
      window.removeEventListener("drop", onDrop);
    };
  }, [onFiles]);

  const setFilters = (next: Filters, mode: "push" | "replace" = "push") => {
    navigate({ view: "gallery", filters: next }, mode);
    window.scrollTo({ top: 0 });
  };
  const openAlbum = (id: string) => setFilters({ ...NO_FILTERS, album: id });
  /** The timeline's jump: photos taken in that month and before, newest first (null: from the newest). */
  const jumpTo = (month: string | null) =>
    setFilters({ ...filters, order: "taken", to: month ? endOfMonth(month) : "" });
  const setView = (view: View) => {
    // "Photos" leaves the album shown for the whole library.
    navigate({ ...route, view, photo: null, filters: { ...route.filters, album: "" } });
    window.scrollTo({ top: 0 });
  };

  const openIndex = openId ? feed.items.findIndex((p) => p.id === openId) : -1;
  const openPhoto = openIndex >= 0 ? feed.items[openIndex] : linked?.id === openId ? linked : undefined;

  // A photo opened by its URL that the loaded pages do not hold: fetch it on its own.
  const needsFetch =
    openId !== null &&
    openIndex === -1 &&
    linked?.id !== openId &&
    feed.loaded &&
    !deleted.current.has(openId);
  useEffect(() => {
    if (!needsFetch || !openId) return;
    let cancelled = false;
    getPhoto(openId).then(
      (photo) => {
        if (cancelled) return;
        if (photo.trashed_at) {
          deleted.current.add(photo.id);
          announce(`${photo.original_name} is in the trash: restore it to see it in your library.`);
          navigate({ ...latestRoute.current, view: "trash", photo: null }, "replace");
          return;
        }
        setLinked(photo);
      },
      (error: unknown) => {
        if (cancelled) return;
        announce(
          error instanceof ApiError && error.status === 404
            ? "That photo is not in your library (it may have been deleted)."
            : error instanceof ApiError
              ? error.message
              : "The photo could not be opened.",
        );
        navigate({ ...latestRoute.current, photo: null }, "replace");
      },
    );
    return () => {
      cancelled = true;
    };
  }, [needsFetch, openId, announce, navigate]);

  // Focus returns to the card of the photo that was open, however it closed (Esc, Back, a link).
  const previousOpenId = useRef(openId);
  useEffect(() => {
    if (previousOpenId.current && !openId) setFocusId(previousOpenId.current);
    previousOpenId.current = openId;
  }, [openId]);

  // Refs, so two quick arrow presses move two photos even before a re-render.
  const openIdRef = useRef(openId);
  openIdRef.current = openId;
  const latestLoadMore = useRef(feed.loadMore);
  latestLoadMore.current = feed.loadMore;
  const navigateDialog = useCallback(
    (delta: -1 | 1) => {
      const items = latestItems.current;
      const next = items.findIndex((p) => p.id === openIdRef.current) + delta;
      if (next >= items.length - 3) latestLoadMore.current();
      const target = items[next];
      if (target) {
        openIdRef.current = target.id;
        // Replace, not push: Back closes the photo instead of stepping through every photo seen.
        navigate({ ...latestRoute.current, photo: target.id }, "replace");
      }
    },
    [navigate],
  );

  const undoTrash = useCallback(
    (trashed: Photo) => {
      // The Undo goes at once, so a second press (or Ctrl+Z) does not restore twice.
      announce(`Restoring ${trashed.original_name}…`);
      restorePhoto(trashed.id).then(
        (photo) => {
          deleted.current.delete(photo.id);
          feed.upsert(photo, belongsInView(latestFilters.current, photo));
          if (latestRoute.current.view === "gallery") setFocusId(photo.id);
          announce(`Restored ${photo.original_name}`);
          refreshCategories(300);
        },
        (error: unknown) =>
          announce(error instanceof ApiError ? error.message : "The photo could not be restored."),
      );
    },
    [feed.upsert, announce, refreshCategories],
  );

  const onTrashed = (photo: Photo) => {
    const id = photo.id;
    const items = latestItems.current;
    const index = items.findIndex((p) => p.id === id);
    const neighbour = items[index + 1] ?? items[index - 1];
    deleted.current.add(id);
    feed.remove(id);
    previousOpenId.current = null;
    closePhoto();
    setFocusId(neighbour?.id ?? null);
    if (!neighbour) document.querySelector<HTMLInputElement>('input[type="search"]')?.focus();
    refreshCategories(300);
    announce(`Moved ${photo.original_name} to the trash.`, { label: "Undo", run: () => undoTrash(photo) });
  };

  const retry = useCallback(
    (id: string) => {
      reanalysePhoto(id).then(
        (photo) => {
          feed.upsert(photo, false);
          announce("Describing the photo again");
        },
        (error: unknown) => announce(error instanceof ApiError ? error.message : "Retry failed."),
      );
    },
    [feed.upsert, announce],
  );

  const onFocused = useCallback(() => setFocusId(null), []);
  const filtered = hasFilters(filters);

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header
        view={route.view === "gallery" && filters.album ? "albums" : route.view}
        query={filters.q}
        onQuery={(q) => setFilters({ ...filters, q }, filters.q && q ? "replace" : "push")}
        onNavigate={setView}
        onFiles={onFiles}
        onSignOut={onSignOut}
        trashCount={trashCount}
      />
      <main id="main" class="main" tabIndex={-1}>
        {route.view === "stats" ? (
          <StatsView refreshKey={statsKey} />
        ) : route.view === "albums" ? (
          <AlbumsView onOpen={(a) => openAlbum(a.id)} />
        ) : route.view === "map" ? (
          <Suspense
            fallback={
              <p class="muted loading-text" role="status">
                <span class="spinner small" aria-hidden="true" /> Loading the map…
              </p>
            }
          >
            <MapView onOpenPlace={(place) => setFilters({ ...NO_FILTERS, place })} />
          </Suspense>
        ) : route.view === "duplicates" ? (
          <DuplicatesView
            announce={announce}
            onTrashed={(photos) => {
              for (const photo of photos) {
                deleted.current.add(photo.id);
                feed.remove(photo.id);
              }
              refreshCategories(300);
            }}
          />
        ) : route.view === "trash" ? (
          <TrashView
            announce={announce}
            onChanged={(restored) => {
              for (const photo of restored) {
                deleted.current.delete(photo.id);
                feed.upsert(photo, belongsInView(latestFilters.current, photo));
              }
              refreshCategories(300);
            }}
          />
        ) : (
          <>
            {filters.album && album && (
              <AlbumHeader
                album={album}
                onChanged={setAlbum}
                onDeleted={(gone) => {
                  announce(`Deleted the album ${gone.name}; its photos stay in your library.`);
                  navigate({ view: "albums", filters: NO_FILTERS });
                }}
                onBack={() => navigate({ view: "albums", filters: NO_FILTERS })}
              />
            )}
            <CategoryChips
              filters={filters}
              categories={categories}
              total={filters.album ? null : totalPhotos}
              counts={!filters.album}
              onChange={(f) => setFilters(f)}
            />
            <div class="results-heading">
              <div class="results-title">
                {!filters.album && (
                  <h1 class="page-title">
                    {filters.q
                      ? `Results for “${filters.q}”`
                      : filters.place
                        ? `Photos taken in ${filters.place}`
                        : "Photos"}
                  </h1>
                )}
                {feed.loaded && feed.items.length > 0 && (!filters.album || filtered || filters.to) && (
                  <p class="muted" aria-live="polite">
                    {plural(feed.items.length, "photo", "photos", feed.hasMore ? "+" : "")}
                    {filters.order === "taken" &&
                      filters.to &&
                      ` · taken up to ${monthLabel(filters.to.slice(0, 7))}`}
                  </p>
                )}
                {/* A space between the count and the button: their words never run together ("1 photoSelect"). */}{" "}
                {feed.items.length > 0 && !selection.active && (
                  <button type="button" class="button small" onClick={selection.start}>
                    <SelectIcon size={16} />
                    Select
                  </button>
                )}
              </div>
              <MoreFilters
                filters={filters}
                onChange={(f) => setFilters(f)}
                onSaveSearch={filters.album ? undefined : () => setSavingSearch(true)}
              />
            </div>
            {feed.error && (
              <div class="notice error" role="alert">
                <p>{feed.error}</p>
                <button type="button" class="button" onClick={feed.reload}>
                  Try again
                </button>
              </div>
            )}
            {!feed.loaded && feed.items.length === 0 ? (
              <p class="muted loading-text" role="status">
                <span class="spinner small" aria-hidden="true" /> Loading photos…
              </p>
            ) : feed.items.length === 0 && !feed.error ? (
              filtered ? (
                <div class="empty">
                  <h2>No photos match</h2>
                  <p class="muted">Try other words, another category or a wider date range.</p>
                  <button type="button" class="button" onClick={() => setFilters(withoutFilters(filters))}>
                    Clear filters
                  </button>
                </div>
              ) : filters.album ? (
                <div class="empty">
                  <div class="empty-art" aria-hidden="true">
                    <AlbumIcon size={40} />
                  </div>
                  <h2>This album is empty</h2>
                  <p class="muted">
                    In <strong>Photos</strong>, choose <strong>Select</strong>, pick photos, then{" "}
                    <strong>Add to album</strong>.
                  </p>
                </div>
              ) : (
                <div class="empty">
                  <div class="empty-art" aria-hidden="true">
                    <UploadIcon size={40} />
                  </div>
                  <h2>Your library is empty</h2>
                  <p class="muted">
                    Drop photos anywhere on this page, or use <strong>Upload photos</strong>. Photocat
                    describes each one so you can find it later.
                  </p>
                </div>
              )
            ) : (
              <div class="gallery-body">
                <div class="gallery-photos">
                  <PhotoGrid
                    items={feed.items}
                    hasMore={feed.hasMore}
                    loading={feed.loading}
                    onLoadMore={feed.loadMore}
                    onOpen={openPhotoById}
                    onRetry={retry}
                    focusId={openId ? null : focusId}
                    onFocused={onFocused}
                    selecting={selection.active}
                    selected={selection.selected}
                    onSelect={selection.toggle}
                  />
                  {feed.loading && feed.items.length > 0 && (
                    <p class="loading-more muted" role="status">
                      <span class="spinner small" aria-hidden="true" /> Loading more photos…
                    </p>
                  )}
                </div>
                <TimelineRail filters={filters} refreshKey={statsKey} onJump={jumpTo} />
              </div>
            )}
          </>
        )}
      </main>

      {openPhoto && (
        <PhotoDialog
          photo={openPhoto}
          index={openIndex}
          count={feed.items.length}
          hasMore={feed.hasMore}
          categories={categories}
          onClose={closePhoto}
          onNavigate={navigateDialog}
          onChanged={(photo) => {
            feed.upsert(photo, false);
            setLinked((current) => (current?.id === photo.id ? photo : current));
            refreshCategories(300);
          }}
          onTrashed={onTrashed}
          onOpenPhoto={(photo) => {
            setLinked(photo);
            openPhotoById(photo.id);
          }}
          announce={announce}
        />
      )}

      {route.view === "gallery" && selection.active && (
        <SelectionBar
          selection={selection}
          inView={feed.items.length}
          categories={categories}
          album={album}
          announce={announce}
          onChanged={(photos) => {
            for (const photo of photos) feed.upsert(photo, false);
            refreshCategories(300);
          }}
          onLeft={(ids) => {
            for (const id of ids) {
              deleted.current.add(id);
              feed.remove(id);
            }
            refreshCategories(300);
          }}
          onRestored={(photos) => {
            for (const photo of photos) {
              deleted.current.delete(photo.id);
              feed.upsert(photo, belongsInView(latestFilters.current, photo));
            }
            refreshCategories(300);
          }}
          onAlbumChanged={setAlbum}
        />
      )}

      {savingSearch && (
        <PromptDialog
          title="Save as smart album"
          label="Name"
          hint="The album will show whatever this search finds, now and later."
          initial={filters.q || filters.place || ""}
          submitLabel="Save album"
          onClose={() => setSavingSearch(false)}
          onSubmit={async (name) => {
            const search = Object.fromEntries(
              SEARCH_KEYS.flatMap((k) => (filters[k] ? [[k, filters[k]]] : [])),
            );
            const created = await createAlbum(name, search);
            announce(`Saved the smart album ${created.name}.`);
            openAlbum(created.id);
          }}
        />
      )}

      <UploadTray uploads={uploads} onDismiss={clearFinished} />

      {dragging && (
        <div class="drop-overlay" aria-hidden="true">
          <div class="drop-card">
            <UploadIcon size={40} />
            <p>Drop photos to upload</p>
          </div>
        </div>
      )}

      <Toast message={toast} onDone={dismissToast} />
    </>
  );
}
