import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, dismissDuplicates, listDuplicates, trashPhoto } from "../api.js";
import { formatBytes, formatLabel, plural } from "../format.js";
import type { DuplicateGroup, Photo } from "../types.js";
import { CopiesIcon, TrashIcon } from "./Icons.js";
import { Thumbnail } from "./Thumbnail.js";

interface DuplicatesViewProps {
  announce: (message: string) => void;
  /** Photos this view moved to the trash: the gallery drops them and the counts refresh. */
  onTrashed: (photos: Photo[]) => void;
}

const messageOf = (error: unknown, fallback: string) =>
  error instanceof ApiError ? error.message : fallback;

/** Each group's copies but the one chosen to keep. */
const othersOf = (group: DuplicateGroup, keep: string) => group.images.filter((p) => p.id !== keep);

/**
 * Near-duplicates, group by group: the copies side by side with format, size and dimensions, the best one
 * chosen to keep; keep one and move the others to the trash (a group, or every group at once), or say
 * a group is not duplicates (a burst of similar shots).
 */
export function DuplicatesView({ announce, onTrashed }: DuplicatesViewProps) {
  const [groups, setGroups] = useState<DuplicateGroup[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The copy to keep in each group (by the group's first id), when the person chose another than ours. */
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [confirmAll, setConfirmAll] = useState(false);
  const [working, setWorking] = useState(false);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const confirmRef = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  const load = useCallback(() => {
    setError(null);
    listDuplicates().then(setGroups, (reason: unknown) => {
      setGroups([]);
      setError(messageOf(reason, "The duplicates could not be loaded."));
    });
  }, []);
  useEffect(load, [load]);

  const keyOf = (group: DuplicateGroup) => group.images[0]?.id ?? group.keep;
  const keepOf = (group: DuplicateGroup) => chosen[keyOf(group)] ?? group.keep;

  const setGroupBusy = (key: string, on: boolean) =>
    setBusy((previous) => {
      const next = new Set(previous);
      if (on) next.add(key);
      else next.delete(key);
      return next;
    });

  /** After a group leaves, focus goes to the next group's heading (or the page title): never to the page. */
  const leave = (key: string) => {
    const all = groups ?? [];
    const index = all.findIndex((g) => keyOf(g) === key);
    const neighbour = all[index + 1] ?? all[index - 1];
    setGroups((previous) => previous?.filter((g) => keyOf(g) !== key) ?? null);
    requestAnimationFrame(() => {
      const target = neighbour
        ? listRef.current?.querySelector<HTMLElement>(`[data-group="${CSS.escape(keyOf(neighbour))}"] h2`)
        : titleRef.current;
      target?.focus();
    });
  };

  /** Moves the copies to the trash one by one; returns those that went (a failure stops and is told). */
  const trashAll = async (photos: Photo[]): Promise<Photo[]> => {
    const trashed: Photo[] = [];
    for (const photo of photos) {
      try {
        await trashPhoto(photo.id);
        trashed.push(photo);
      } catch (reason) {
        announce(messageOf(reason, `${photo.original_name} could not be moved to the trash.`));
        break;
      }
    }
    if (trashed.length > 0) onTrashed(trashed);
    return trashed;
  };

  const keepOne = async (group: DuplicateGroup) => {
    const key = keyOf(group);
    const others = othersOf(group, keepOf(group));
    setGroupBusy(key, true);
    const trashed = await trashAll(others);
    setGroupBusy(key, false);
    if (trashed.length === others.length) {
      leave(key);
      announce(
        `Kept ${group.images.find((p) => p.id === keepOf(group))?.original_name ?? "one copy"}; moved ${plural(trashed.length, "copy", "copies")} to the trash.`,
      );
    } else {
      load();
    }
  };

  const notDuplicates = (group: DuplicateGroup) => {
    const key = keyOf(group);
    setGroupBusy(key, true);
    dismissDuplicates(group.images.map((p) => p.id)).then(
      () => {
        setGroupBusy(key, false);
        leave(key);
        announce("Marked as not duplicates: the group will not show again.");
      },
      (reason: unknown) => {
        setGroupBusy(key, false);
        announce(messageOf(reason, "The group could not be marked as not duplicates."));
      },
    );
  };

  const total = (groups ?? []).reduce((n, g) => n + g.images.length - 1, 0);

  const openConfirm = () => {
    setConfirmAll(true);
    confirmRef.current?.showModal();
    cancelRef.current?.focus();
  };
  const closeConfirm = () => {
    confirmRef.current?.close();
    setConfirmAll(false);
  };

  const keepBestOfAll = async () => {
    const all = groups ?? [];
    setWorking(true);
    let moved = 0;
    let complete = true;
    for (const group of all) {
      const others = othersOf(group, keepOf(group));
      const trashed = await trashAll(others);
      moved += trashed.length;
      if (trashed.length < others.length) {
        complete = false;
        break;
      }
    }
    setWorking(false);
    closeConfirm();
    announce(`Moved ${plural(moved, "copy", "copies")} to the trash.`);
    if (complete) setGroups([]);
    else load();
    titleRef.current?.focus();
  };

  return (
    <div class="duplicates">
      <div class="results-heading">
        <div class="results-title">
          <h1 class="page-title" ref={titleRef} tabIndex={-1}>
            Duplicates
          </h1>
          {groups && groups.length > 0 && (
            <p class="muted">
              {`${plural(groups.length, "group", "groups")}, ${plural(total, "extra copy", "extra copies")}`}
            </p>
          )}
        </div>
        {groups && groups.length > 0 && (
          <button type="button" class="button danger" onClick={openConfirm} disabled={working}>
            <TrashIcon size={18} />
            Keep the best of every group
          </button>
        )}
      </div>

      {error && (
        <div class="notice error" role="alert">
          <p>{error}</p>
          <button type="button" class="button" onClick={load}>
            Try again
          </button>
        </div>
      )}

      {groups === null ? (
        <p class="muted loading-text" role="status">
          <span class="spinner small" aria-hidden="true" /> Looking for duplicates…
        </p>
      ) : groups.length === 0 && !error ? (
        <div class="empty">
          <div class="empty-art" aria-hidden="true">
            <CopiesIcon size={40} />
          </div>
          <h2>No duplicates</h2>
          <p class="muted">
            Copies of the same picture (resized, re-compressed, converted to another format or lightly
            cropped) show here as they are added, with the best one to keep.
          </p>
        </div>
      ) : (
        <>
          <p class="muted trash-hint">
            The largest, sharpest copy is chosen to keep. The others go to the trash, from where they can be
            restored.
          </p>
          <ol class="duplicate-groups" ref={listRef} aria-label="Groups of duplicates">
            {groups.map((group, n) => {
              const key = keyOf(group);
              const keep = keepOf(group);
              const others = othersOf(group, keep).length;
              const headingId = `group-${key}`;
              return (
                <li key={key} class="duplicate-group" data-group={key}>
                  <section aria-labelledby={headingId}>
                    <h2 id={headingId} class="group-title" tabIndex={-1}>
                      {`Group ${n + 1}: ${plural(group.images.length, "copy", "copies")}`}
                    </h2>
                    <fieldset class="copies" disabled={busy.has(key) || working}>
                      <legend class="visually-hidden">{`Copy to keep in group ${n + 1}`}</legend>
                      {group.images.map((photo) => (
                        <CopyCard
                          key={photo.id}
                          photo={photo}
                          group={key}
                          kept={photo.id === keep}
                          best={photo.id === group.keep}
                          onKeep={() => setChosen((previous) => ({ ...previous, [key]: photo.id }))}
                        />
                      ))}
                    </fieldset>
                    <div class="group-actions">
                      <button
                        type="button"
                        class="button danger solid"
                        onClick={() => keepOne(group)}
                        disabled={busy.has(key) || working}
                      >
                        {`Keep the chosen copy, trash ${plural(others, "other", "others")}`}
                      </button>
                      <button
                        type="button"
                        class="button"
                        onClick={() => notDuplicates(group)}
                        disabled={busy.has(key) || working}
                      >
                        Not duplicates
                      </button>
                    </div>
                  </section>
                </li>
              );
            })}
          </ol>
        </>
      )}

      <dialog
        ref={confirmRef}
        class="confirm-dialog"
        aria-labelledby="duplicates-confirm-title"
        aria-describedby="duplicates-confirm-text"
        onClose={() => setConfirmAll(false)}
      >
        <h2 id="duplicates-confirm-title">Keep the best of every group?</h2>
        <p id="duplicates-confirm-text">
          {confirmAll
            ? `${plural(total, "copy", "copies")} in ${plural(groups?.length ?? 0, "group", "groups")} will move to the trash; the chosen copy of each group stays. You can restore them from the trash.`
            : ""}
        </p>
        <div class="confirm-actions">
          <button type="button" class="button" onClick={closeConfirm} ref={cancelRef}>
            Cancel
          </button>
          <button type="button" class="button danger solid" onClick={keepBestOfAll} disabled={working}>
            {working ? "Moving…" : `Move ${plural(total, "copy", "copies")} to the trash`}
          </button>
        </div>
      </dialog>
    </div>
  );
}

function CopyCard({
  photo,
  group,
  kept,
  best,
  onKeep,
}: {
  photo: Photo;
  group: string;
  kept: boolean;
  best: boolean;
  onKeep: () => void;
}) {
  const inputId = `keep-${group}-${photo.id}`;
  return (
    <div class={`card copy-card${kept ? " kept" : ""}`}>
      {/* No thumbhash behind it: the whole picture is shown, letterboxed, for comparing crops. */}
      <div class="card-media trash-media">
        <Thumbnail key={photo.thumbnails.small} photo={photo} />
      </div>
      <div class="card-caption">
        <p class="trash-name" title={photo.original_name}>
          {photo.original_name}
        </p>
        <dl class="copy-facts">
          <dt class="copy-fact-name">Format</dt>
          <dd class="copy-fact">{formatLabel(photo.media_type)}</dd>
          <dt class="copy-fact-name">Dimensions</dt>
          <dd class="copy-fact">{`${photo.width} × ${photo.height}`}</dd>
          <dt class="copy-fact-name">Size</dt>
          <dd class="copy-fact">{formatBytes(photo.byte_size)}</dd>
        </dl>
        <label class="keep-choice" for={inputId}>
          <input type="radio" id={inputId} name={`keep-${group}`} checked={kept} onChange={onKeep} />
          {`Keep ${photo.original_name}`}
          {best && (
            <span class="best-badge">
              best<span class="visually-hidden"> copy</span>
            </span>
          )}
        </label>
      </div>
    </div>
  );
}
