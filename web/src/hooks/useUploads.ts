import { useCallback, useRef, useState } from "preact/hooks";
import { ApiError, uploadFile } from "../api.js";
import type { Photo } from "../types.js";

export type UploadState = "waiting" | "uploading" | "added" | "duplicate" | "rejected";

export interface UploadItem {
  key: number;
  name: string;
  size: number;
  progress: number;
  state: UploadState;
  message: string;
  photoId?: string;
}

const CONCURRENT_UPLOADS = 3;

/** Uploads files a few at a time, one request each, and reports every file's progress and outcome. */
export function useUploads(onStored: (photo: Photo) => void) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const queue = useRef<{ key: number; file: File }[]>([]);
  const active = useRef(0);
  const nextKey = useRef(1);
  const storedListener = useRef(onStored);
  storedListener.current = onStored;

  const patch = useCallback((key: number, change: Partial<UploadItem>) => {
    setItems((previous) => previous.map((item) => (item.key === key ? { ...item, ...change } : item)));
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
              patch(job.key, {
                progress: 1,
                photoId: photo.id,
                state: photo.duplicate ? "duplicate" : "added",
                message: photo.duplicate ? "Already in your library" : "Added, describing…",
              });
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
  }, [patch]);

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
        ...previous.filter((item) => item.state === "waiting" || item.state === "uploading"),
        ...added,
      ]);
      pump();
    },
    [pump],
  );

  const clearFinished = useCallback(() => {
    setItems((previous) => previous.filter((item) => item.state === "waiting" || item.state === "uploading"));
  }, []);

  return { uploads: items, addFiles: add, clearFinished };
}
