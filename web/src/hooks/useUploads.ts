import { useCallback, useRef, useState } from "preact/hooks";
import { ApiError, getPhoto, uploadFile } from "../api.js";
import { isPending } from "../format.js";
import type { Photo } from "../types.js";

export type UploadState =
  | "waiting"
  | "uploading"
  | "describing"
  | "described"
  | "failed"
  | "duplicate"
  | "rejected";

export interface UploadItem {
  key: number;
  name: string;
  size: number;
  progress: number;
  state: UploadState;
  message: string;
  photoId?: string;
  /** The version of the photo the state comes from: an older answer must not undo a newer one. */
  photoUpdatedAt?: string;
}

const CONCURRENT_UPLOADS = 3;

export const isUploading = (item: UploadItem) => item.state === "waiting" || item.state === "uploading";

/** What an upload says once its photo is stored: it follows the photo until it is described or failed. */
function fromPhoto(photo: Photo): Pick<UploadItem, "state" | "message" | "photoId" | "photoUpdatedAt"> {
  const base = { photoId: photo.id, photoUpdatedAt: photo.updated_at };
  if (photo.status === "done") return { ...base, state: "described", message: "Described" };
  if (photo.status === "failed") {
    return { ...base, state: "failed", message: `Describing failed: ${photo.error || "unknown error"}` };
  }
  return {
    ...base,
    state: "describing",
    message: photo.status === "running" ? "Describing…" : "Added, waiting to be described",
  };
}

function isOlder(photo: Photo, item: UploadItem): boolean {
  return Boolean(photo.updated_at && item.photoUpdatedAt && photo.updated_at < item.photoUpdatedAt);
}

/**
 * Uploads files a few at a time, one request each, and reports every file's progress and outcome; after the
 * upload, each file follows its photo (fed by `track`) until the photo is described or has failed.
 */
export function useUploads(onStored: (photo: Photo) => void) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const latestItems = useRef(items);
  latestItems.current = items;
  const queue = useRef<{ key: number; file: File }[]>([]);
  const active = useRef(0);
  const nextKey = useRef(1);
  const storedListener = useRef(onStored);
  storedListener.current = onStored;

  const patch = useCallback((key: number, change: Partial<UploadItem>) => {
    setItems((previous) => previous.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  /** A newer version of a photo (a live event or a poll): every upload of it follows, duplicates included. */
  const track = useCallback((photo: Photo) => {
    setItems((previous) => {
      if (!previous.some((item) => item.photoId === photo.id)) return previous;
      return previous.map((item) => {
        if (item.photoId !== photo.id || item.state === "duplicate" || isOlder(photo, item)) return item;
        return { ...item, ...fromPhoto(photo) };
      });
    });
  }, []);

  const pump = useCallback(() => {
    while (active.current < CONCURRENT_UPLOADS && queue.current.length > 0) {
      const job = queue.current.shift()!;
      active.current += 1;
      patch(job.key, { state: "uploading", message: "Uploading" });
      const { promise } = uploadFile(job.file, (fraction) => patch(job.key, { progress: fraction }));
      promise
        .then(
          (result) => {
            const photo = result.images[0];
            const rejection = result.rejected[0];
            if (photo) {
              storedListener.current(photo);
              if (photo.duplicate) {
                patch(job.key, {
                  progress: 1,
                  photoId: photo.id,
                  state: "duplicate",
                  message: "Already in your library",
                });
                return;
              }
              patch(job.key, { progress: 1, ...fromPhoto(photo) });
              // The photo may have been described before this answer arrived (its event came first): ask once.
              if (isPending(photo)) getPhoto(photo.id).then(track, () => {});
            } else {
              patch(job.key, {
                progress: 1,
                state: "rejected",
                message: rejection ? rejection.error.message : "The server did not store this file.",
              });
            }
          },
          (error: unknown) => {
            patch(job.key, {
              progress: 1,
              state: "rejected",
              message: error instanceof ApiError ? error.message : "The upload failed.",
            });
          },
        )
        .finally(() => {
          active.current -= 1;
          pump();
        });
    }
  }, [patch, track]);

  const add = useCallback(
    (files: Iterable<File>) => {
      const added: UploadItem[] = [];
      for (const file of files) {
        const key = nextKey.current++;
        queue.current.push({ key, file });
        added.push({
          key,
          name: file.name,
          size: file.size,
          progress: 0,
          state: "waiting",
          message: "Waiting",
        });
      }
      if (added.length === 0) return;
      setItems((previous) => [
        ...previous.filter((item) => isUploading(item) || item.state === "describing"),
        ...added,
      ]);
      pump();
    },
    [pump],
  );

  const clearFinished = useCallback(() => {
    setItems((previous) => previous.filter(isUploading));
  }, []);

  /** Photos of this session's uploads still being described: the live feed polls them when events are down. */
  const describingIds = useCallback(
    () =>
      latestItems.current.flatMap((item) =>
        item.state === "describing" && item.photoId ? [item.photoId] : [],
      ),
    [],
  );

  return { uploads: items, addFiles: add, clearFinished, track, describingIds };
}
