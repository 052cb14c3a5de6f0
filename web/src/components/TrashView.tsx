import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import {
  ApiError,
  countAllTrash,
  deleteForGood,
  emptyTrash,
  getPhoto,
  listTrash,
  restorePhoto,
} from "../api.js";
import { formatDate, placeholderUrl, plural } from "../format.js";
import { useLive } from "../hooks/useLive.js";
import type { Photo } from "../types.js";
import { RestoreIcon, TrashIcon } from "./Icons.js";
import { Thumbnail } from "./Thumbnail.js";

const PAGE_SIZE = 60;

interface TrashViewProps {
  announce: (message: string) => void;
  /** Something left the trash: restored photos go back into the gallery; counts need a refresh. */
  onChanged: (restored: Photo[]) => void;
}

type Confirm = { kind: "one"; photo: Photo } | { kind: "all"; count: number | null };

const messageOf = (error: unknown, fallback: string) =>
  error instanceof ApiError ? error.message : fallback;

/** The trash: restore a photo, delete one for good, or empty it; most recently trashed first. */
export function TrashView({ announce, onChanged }: TrashViewProps) {
  const [items, setItems] = useState<Photo[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [emptied, setEmptied] = useState<number | null>(null);
  const [emptying, setEmptying] = useState(false);
  const confirmRef = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const moreRef = useRef<HTMLButtonElement>(null);
  const inFlight = useRef(false);
  // Ids this view has shown: a `deleted` event for one of them means deleted for good, no need to ask.
  const seen = useRef(new Set<string>());

  const load = useCallback((from: string | null) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setLoading(true);
    setError(null);
    listTrash(from, PAGE_SIZE).then(
      (page) => {
        inFlight.current = false;
        for (const photo of page.items) seen.current.add(photo.id);
        setItems((previous) => {
          if (!from) return page.items;
          const have = new Set(previous.map((p) => p.id));
          return previous.concat(page.items.filter((p) => !have.has(p.id)));
        });
        setCursor(page.next_cursor);
        setHasMore(page.next_cursor !== null);
        setLoading(false);
        setLoaded(true);
      },
      (reason: unknown) => {
        inFlight.current = false;
        setLoading(false);
        setLoaded(true);
        setError(messageOf(reason, "The trash could not be loaded."));
      },
    );
  }, []);

  useEffect(() => load(null), [load]);

  const remove = useCallback((id: string) => setItems((previous) => previous.filter((p) => p.id !== id)), []);

  useLive(true, {
    onPhoto: (photo) => {
      if (!photo.trashed_at) {
        remove(photo.id);
        return;
      }
      seen.current.add(photo.id);
      setItems((previous) =>
        previous.some((p) => p.id === photo.id)
          ? previous.map((p) => (p.id === photo.id ? photo : p))
          : [photo, ...previous],
      );
    },
    // `deleted` is published both when a photo is trashed (it arrives here) and when it is deleted for good.
    onDeleted: (id) => {
      if (seen.current.has(id)) {
        remove(id);
        return;
      }
      getPhoto(id).then(
        (photo) => {
          if (!photo.trashed_at) return;
          seen.current.add(id);
          setEmptied(null);
          setItems((previous) => (previous.some((p) => p.id === id) ? previous : [photo, ...previous]));
        },
        () => remove(id),
      );
    },
    pendingIds: () => [],
  });

  // Infinite scroll as in the gallery; the button stays for keyboards and as a fallback.
  useEffect(() => {
    const button = moreRef.current;
    if (!button || !hasMore || typeof IntersectionObserver !== "function") return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) load(cursor);
      },
      { rootMargin: "600px 0px" },
    );
    observer.observe(button);
    return () => observer.disconnect();
  }, [hasMore, cursor, load, items.length]);

  const setItemBusy = (id: string, on: boolean) =>
    setBusy((previous) => {
      const next = new Set(previous);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  /** After a card leaves, focus goes to the next card's first action (or the heading): never to the page. */
  const focusAfter = (id: string) => {
    const index = items.findIndex((p) => p.id === id);
    const neighbour = items[index + 1] ?? items[index - 1];
    requestAnimationFrame(() => {
      const target = neighbour
        ? listRef.current?.querySelector<HTMLElement>(`[data-trash-id="${CSS.escape(neighbour.id)}"] button`)
        : titleRef.current;
      target?.focus();
    });
  };

  const restore = (photo: Photo) => {
    setItemBusy(photo.id, true);
    restorePhoto(photo.id).then(
      (restored) => {
        setItemBusy(photo.id, false);
        focusAfter(photo.id);
        remove(photo.id);
        onChanged([restored]);
        announce(`Restored ${photo.original_name} to your library`);
      },
      (reason: unknown) => {
        setItemBusy(photo.id, false);
        announce(messageOf(reason, "The photo could not be restored."));
      },
    );
  };

  const openConfirm = (next: Confirm) => {
    setConfirm(next);
    confirmRef.current?.showModal();
    cancelRef.current?.focus();
  };

  const closeConfirm = () => {
    confirmRef.current?.close();
    setConfirm(null);
  };

  const askEmpty = () => {
    if (!hasMore) {
      openConfirm({ kind: "all", count: items.length });
      return;
    }
    // Only part of the trash is loaded: count all of it, so the question names the real number.
    openConfirm({ kind: "all", count: null });
    countAllTrash().then(
      (count) => setConfirm((current) => (current?.kind === "all" ? { kind: "all", count } : current)),
      (reason: unknown) => {
        closeConfirm();
        announce(messageOf(reason, "The trash could not be counted."));
      },
    );
  };

  const confirmed = () => {
    if (!confirm) return;
    if (confirm.kind === "one") {
      const { photo } = confirm;
      closeConfirm();
      setItemBusy(photo.id, true);
      deleteForGood(photo.id).then(
        () => {
          setItemBusy(photo.id, false);
          focusAfter(photo.id);
          remove(photo.id);
          onChanged([]);
          announce(`Deleted ${photo.original_name} for good`);
        },
        (reason: unknown) => {
          setItemBusy(photo.id, false);
          announce(messageOf(reason, "The photo could not be deleted."));
        },
      );
      return;
    }
    setEmptying(true);
    emptyTrash().then(
      ({ deleted }) => {
        setEmptying(false);
        closeConfirm();
        setItems([]);
        setHasMore(false);
        setCursor(null);
        setEmptied(deleted);
        onChanged([]);
        announce(`Deleted ${plural(deleted, "photo", "photos")} for good`);
        titleRef.current?.focus();
      },
      (reason: unknown) => {
        setEmptying(false);
        closeConfirm();
        announce(messageOf(reason, "The trash could not be emptied."));
      },
    );
  };

  return (
    <div class="trash">
      <div class="results-heading">
        <div class="results-title">
          <h1 class="page-title" ref={titleRef} tabIndex={-1}>
            Trash
          </h1>
          {loaded && items.length > 0 && (
            <p class="muted">{plural(items.length, "photo", "photos", hasMore ? "+" : "")}</p>
          )}
        </div>
        {items.length > 0 && (
          <button type="button" class="button danger" onClick={askEmpty} disabled={emptying}>
            <TrashIcon size={18} />
            Empty trash
          </button>
        )}
      </div>

      {error && (
        <div class="notice error" role="alert">
          <p>{error}</p>
          <button type="button" class="button" onClick={() => load(null)}>
            Try again
          </button>
        </div>
      )}

      {!loaded ? (
        <p class="muted loading-text" role="status">
          <span class="spinner small" aria-hidden="true" /> Loading the trash…
        </p>
      ) : items.length === 0 && !error ? (
        <div class="empty">
          <div class="empty-art" aria-hidden="true">
            <TrashIcon size={40} />
          </div>
          <h2>The trash is empty</h2>
          {emptied !== null && <p>{`Deleted ${plural(emptied, "photo", "photos")} for good.`}</p>}
          <p class="muted">
            Photos you move to the trash wait here, out of your library, search and statistics, until you
            restore them or delete them for good.
          </p>
        </div>
      ) : (
        <>
          <p class="muted trash-hint">
            Photos here are hidden from your library, search and statistics. Restore one to bring it back as
            it was.
          </p>
          {/* biome-ignore lint/a11y/noRedundantRoles: Safari drops list semantics from a ul styled list-style: none */}
          <ul class="trash-grid" role="list" aria-label="Trashed photos" aria-busy={loading} ref={listRef}>
            {items.map((photo) => (
              <TrashCard
                key={photo.id}
                photo={photo}
                busy={busy.has(photo.id) || emptying}
                onRestore={restore}
                onDelete={(p) => openConfirm({ kind: "one", photo: p })}
              />
            ))}
          </ul>
          {hasMore && (
            <div class="trash-more">
              <button
                type="button"
                class="button"
                ref={moreRef}
                onClick={() => load(cursor)}
                disabled={loading}
              >
                {loading ? "Loading…" : "Show more"}
              </button>
            </div>
          )}
        </>
      )}

      <dialog
        ref={confirmRef}
        class="confirm-dialog"
        aria-labelledby="trash-confirm-title"
        aria-describedby="trash-confirm-text"
        onClose={() => setConfirm(null)}
      >
        <h2 id="trash-confirm-title">
          {confirm?.kind === "all" ? "Empty the trash?" : "Delete this photo for good?"}
        </h2>
        <p id="trash-confirm-text">
          {confirm?.kind === "one"
            ? `“${confirm.photo.original_name}” and its description will be removed for good. This cannot be undone.`
            : confirm?.kind === "all"
              ? confirm.count === null
                ? "Counting the photos in the trash…"
                : `${confirm.count === 1 ? "The 1 photo" : `All ${plural(confirm.count, "photo", "photos")}`} in the trash will be deleted for good. This cannot be undone.`
              : ""}
        </p>
        <div class="confirm-actions">
          <button type="button" class="button" onClick={closeConfirm} ref={cancelRef}>
            Cancel
          </button>
          <button
            type="button"
            class="button danger solid"
            onClick={confirmed}
            disabled={emptying || (confirm?.kind === "all" && confirm.count === null)}
          >
            {confirm?.kind === "all"
              ? emptying
                ? "Emptying…"
                : confirm.count === null
                  ? "Empty trash"
                  : `Delete ${plural(confirm.count, "photo", "photos")}`
              : "Delete for good"}
          </button>
        </div>
      </dialog>
    </div>
  );
}

function TrashCard({
  photo,
  busy,
  onRestore,
  onDelete,
}: {
  photo: Photo;
  busy: boolean;
  onRestore: (photo: Photo) => void;
  onDelete: (photo: Photo) => void;
}) {
  const name = photo.original_name;
  const placeholder = placeholderUrl(photo.thumbhash);
  return (
    <li class="card trash-card" data-trash-id={photo.id}>
      <div
        class="card-media trash-media"
        style={placeholder ? { backgroundImage: `url("${placeholder}")` } : undefined}
      >
        <Thumbnail key={photo.thumbnails.small} photo={photo} />
      </div>
      <div class="card-caption">
        <p class="trash-name" title={name}>
          {name}
        </p>
        {photo.trashed_at && (
          <p class="muted trash-when">
            Trashed <time dateTime={photo.trashed_at}>{formatDate(photo.trashed_at)}</time>
          </p>
        )}
        <div class="trash-actions">
          <button
            type="button"
            class="button small"
            onClick={() => onRestore(photo)}
            disabled={busy}
            aria-label={`Restore ${name}`}
          >
            <RestoreIcon size={16} />
            Restore
          </button>
          <button
            type="button"
            class="button small danger"
            onClick={() => onDelete(photo)}
            disabled={busy}
            aria-label={`Delete for good: ${name}`}
          >
            Delete for good
          </button>
        </div>
      </div>
    </li>
  );
}
