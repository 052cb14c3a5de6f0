import { plural } from "../format.js";
import { isUploading, type UploadItem, type UploadState } from "../hooks/useUploads.js";
import { AlertIcon, CheckIcon, CloseIcon } from "./Icons.js";

const count = (uploads: UploadItem[], state: UploadState) => uploads.filter((u) => u.state === state).length;

export function UploadTray({ uploads, onDismiss }: { uploads: UploadItem[]; onDismiss: () => void }) {
  if (uploads.length === 0) return null;
  const uploading = uploads.filter(isUploading).length;
  const describing = count(uploads, "describing");
  const stored = uploads.length - uploading - count(uploads, "rejected") - count(uploads, "duplicate");
  const title =
    uploading > 0
      ? `Uploading: ${uploads.length - uploading} of ${uploads.length} done`
      : describing > 0
        ? `Describing: ${stored - describing} of ${plural(stored, "photo", "photos")} done`
        : "Uploads finished";
  const summary = [
    [count(uploads, "described"), "described"],
    [count(uploads, "failed"), "could not be described"],
    [count(uploads, "duplicate"), "already in your library"],
    [count(uploads, "rejected"), "rejected"],
  ]
    .filter(([n]) => n)
    .map(([n, what]) => `${n} ${what}`)
    .join(", ");
  const settled = uploading === 0 && describing === 0;

  return (
    // A fixed name: the heading changes as files upload and are described, the region stays "Uploads".
    <section class="upload-tray" aria-label="Uploads">
      <header>
        <h2>{title}</h2>
        {uploading === 0 && (
          <button type="button" class="icon-button" onClick={onDismiss} aria-label="Dismiss uploads">
            <CloseIcon size={18} />
          </button>
        )}
      </header>
      <p class="visually-hidden" role="status">
        {settled ? `Uploads finished: ${summary}.` : ""}
      </p>
      <ul class="upload-list" aria-label="Uploads">
        {uploads.map((u) => (
          <li key={u.key} class={`upload-item ${u.state}`}>
            <span class="upload-icon" aria-hidden="true">
              {u.state === "rejected" || u.state === "failed" ? (
                <AlertIcon size={18} />
              ) : u.state === "described" || u.state === "duplicate" ? (
                <CheckIcon size={18} />
              ) : (
                <span class="spinner small" />
              )}
            </span>
            <span class="upload-text">
              <span class="upload-name" title={u.name}>
                {u.name}
              </span>
              <span class="upload-status">
                {u.state === "uploading" ? `Uploading ${Math.round(u.progress * 100)}%` : u.message}
              </span>
              {isUploading(u) && (
                <progress max={1} value={u.progress} aria-label={`Upload progress of ${u.name}`} />
              )}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
