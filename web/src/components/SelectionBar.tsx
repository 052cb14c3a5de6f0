import { useState } from "preact/hooks";
import { ApiError, bulkChange, changeAlbumPhotos, createAlbum, listAlbums, updateAlbum } from "../api.js";
import { categoryLabel, plural } from "../format.js";
import type { Selection } from "../hooks/useSelection.js";
import type { Album, BulkResult, CategoryCount, Photo } from "../types.js";
import { ChooseAlbumDialog, PromptDialog } from "./Dialogs.js";
import { CloseIcon, TrashIcon } from "./Icons.js";
import type { ToastAction } from "./Toast.js";

interface SelectionBarProps {
  selection: Selection;
  /** How many photos the view holds (what "Select all" selects). */
  inView: number;
  categories: CategoryCount[];
  /** The album shown, if any. */
  album: Album | null;
  announce: (text: string, action?: ToastAction) => void;
  /** Photos changed (category, tags, status): put them in place. */
  onChanged: (photos: Photo[]) => void;
  /** Photos that left the view (trashed, or taken out of the album shown). */
  onLeft: (ids: string[]) => void;
  /** Photos back from the trash (Undo). */
  onRestored: (photos: Photo[]) => void;
  onAlbumChanged: (album: Album) => void;
}

type Dialog = "tags" | "album" | null;

const messageOf = (error: unknown, fallback: string) =>
  error instanceof ApiError ? error.message : fallback;

/** "…; 2 were left alone: <first reason>" when the server named some. */
function leftAlone(errors: BulkResult["errors"]): string {
  if (errors.length === 0) return "";
  return ` ${plural(errors.length, "photo was", "photos were")} left alone: ${errors[0]!.error.message}.`;
}

/** What to do with the selected photos: a bar at the bottom of the screen while selecting. */
export function SelectionBar(props: SelectionBarProps) {
  const { selection, album, announce } = props;
  const [dialog, setDialog] = useState<Dialog>(null);
  const [albums, setAlbums] = useState<Album[]>([]);
  const [busy, setBusy] = useState(false);
  const ids = [...selection.selected];
  const count = ids.length;
  const none = count === 0 || busy;
  const chosenAlbum = album && !album.smart ? album : null;

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    try {
      await work();
    } catch (error) {
      announce(messageOf(error, "That did not work."));
    } finally {
      setBusy(false);
    }
  };

  const setCategory = (slug: string) =>
    run(async () => {
      const result = await bulkChange(ids, { action: "category", value: slug });
      props.onChanged(result.images);
      announce(
        `Set ${plural(result.done.length, "photo", "photos")} to ${categoryLabel(slug)}.${leftAlone(result.errors)}`,
      );
    });

  const reanalyse = () =>
    run(async () => {
      const result = await bulkChange(ids, { action: "reanalyse" });
      props.onChanged(result.images);
      announce(
        `Describing ${plural(result.done.length, "photo", "photos")} again.${leftAlone(result.errors)}`,
      );
    });

  const trash = () =>
    run(async () => {
      const result = await bulkChange(ids, { action: "trash" });
      props.onLeft(result.done);
      selection.drop(result.done);
      const undo: ToastAction = {
        label: "Undo",
        run: () => {
          announce(`Restoring ${plural(result.done.length, "photo", "photos")}…`);
          bulkChange(result.done, { action: "restore" }).then(
            (restored) => {
              props.onRestored(restored.images);
              announce(`Restored ${plural(restored.done.length, "photo", "photos")}.`);
            },
            (error: unknown) => announce(messageOf(error, "The photos could not be restored.")),
          );
        },
      };
      announce(
        `Moved ${plural(result.done.length, "photo", "photos")} to the trash.${leftAlone(result.errors)}`,
        undo,
      );
    });

  const removeFromAlbum = () =>
    run(async () => {
      if (!chosenAlbum) return;
      const result = await changeAlbumPhotos(chosenAlbum.id, ids, true);
      props.onLeft(result.done);
      selection.drop(result.done);
      props.onAlbumChanged(result.album);
      announce(`Took ${plural(result.done.length, "photo", "photos")} out of ${result.album.name}.`);
    });

  const useAsCover = () =>
    run(async () => {
      if (!album || count !== 1) return;
      const updated = await updateAlbum(album.id, { cover: ids[0]! });
      props.onAlbumChanged(updated);
      announce(`The cover of ${updated.name} is set.`);
    });

  const openAlbums = () =>
    run(async () => {
      setAlbums((await listAlbums()).filter((a) => !a.smart));
      setDialog("album");
    });

  return (
    <section class="selection-bar" aria-label="Selected photos">
      <div class="selection-count">
        <button
          type="button"
          class="icon-button"
          onClick={selection.stop}
          aria-label="Stop selecting"
          title="Stop selecting (Esc)"
        >
          <CloseIcon />
        </button>
        <p aria-live="polite">{plural(count, "photo", "photos")} selected</p>
      </div>
      <div class="selection-actions">
        <button type="button" class="button small" onClick={selection.selectAll} disabled={busy}>
          Select all {props.inView}
        </button>
        {count > 0 && (
          <button type="button" class="button small subtle" onClick={selection.clear} disabled={busy}>
            Clear
          </button>
        )}
        <label class="visually-hidden" for="bulk-category">
          Set category
        </label>
        <select
          id="bulk-category"
          class="selection-select"
          value=""
          disabled={none}
          onChange={(event) => {
            const slug = event.currentTarget.value;
            event.currentTarget.value = "";
            if (slug) setCategory(slug);
          }}
        >
          <option value="">Set category…</option>
          {props.categories.map((c) => (
            <option key={c.slug} value={c.slug}>
              {categoryLabel(c.slug)}
            </option>
          ))}
        </select>
        <button type="button" class="button small" onClick={() => setDialog("tags")} disabled={none}>
          Add tags
        </button>
        <button type="button" class="button small" onClick={openAlbums} disabled={none}>
          Add to album
        </button>
        {album && (
          <button type="button" class="button small" onClick={useAsCover} disabled={busy || count !== 1}>
            Use as cover
          </button>
        )}
        {chosenAlbum && (
          <button type="button" class="button small" onClick={removeFromAlbum} disabled={none}>
            Remove from album
          </button>
        )}
        <button type="button" class="button small" onClick={reanalyse} disabled={none}>
          Re-analyse
        </button>
        <button type="button" class="button small danger" onClick={trash} disabled={none}>
          <TrashIcon size={16} />
          Move to trash
        </button>
      </div>

      {dialog === "tags" && (
        <PromptDialog
          title={`Add tags to ${plural(count, "photo", "photos")}`}
          label="Tags"
          hint="Separate tags with commas."
          submitLabel="Add tags"
          maxLength={500}
          onClose={() => setDialog(null)}
          onSubmit={async (text) => {
            const tags = text
              .split(",")
              .map((t) => t.trim())
              .filter(Boolean);
            const result = await bulkChange(ids, { action: "tags", value: tags });
            props.onChanged(result.images);
            announce(
              `Added ${plural(tags.length, "tag", "tags")} to ${plural(result.done.length, "photo", "photos")}.${leftAlone(result.errors)}`,
            );
          }}
        />
      )}
      {dialog === "album" && (
        <ChooseAlbumDialog
          albums={albums}
          onClose={() => setDialog(null)}
          onSubmit={async (choice) => {
            const target = "id" in choice ? choice.id : (await createAlbum(choice.name)).id;
            const result = await changeAlbumPhotos(target, ids);
            if (album?.id === result.album.id) props.onAlbumChanged(result.album);
            announce(
              `Added ${plural(result.done.length, "photo", "photos")} to ${result.album.name}.${leftAlone(result.errors)}`,
            );
          }}
        />
      )}
    </section>
  );
}
