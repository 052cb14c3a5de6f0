import type { UploadItem } from "../hooks/useUploads.js";
import { AlertIcon, CheckIcon, CloseIcon } from "./Icons.js";

export function UploadTray({ uploads, onDismiss }: { uploads: UploadItem[]; onDismiss: () => void }) {
  if (uploads.length === 0) return null;
  const running = uploads.filter((u) => u.state === "waiting" || u.state === "uploading").length;
  const rejected = uploads.filter((u) => u.state === "rejected").length;
  const duplicates = uploads.filter((u) => u.state === "duplicate").length;
  const added = uploads.filter((u) => u.state === "added").length;
  const title =
    running > 0 ? `Uploading: ${uploads.length - running} of ${uploads.length} done` : "Uploads finished";
  const summary = [
    added && `${added} added`,
    duplicates && `${duplicates} already in your library`,
    rejected && `${rejected} rejected`,
  ]
    .filter(Boolean)
    .join(", ");

  return (
    <section class="upload-tray" aria-labelledby="upload-tray-title">
      <header>
        <h2 id="upload-tray-title">{title}</h2>
        {running === 0 && (
          <button type="button" class="icon-button" onClick={onDismiss} aria-label="Dismiss uploads">
            <CloseIcon size={18} />
          </button>
        )}
      </header>
      <p class="visually-hidden" role="status">
        {running === 0 ? `Uploads finished: ${summary}.` : ""}
      </p>
      <ul class="upload-list" aria-label="Uploads">
        {uploads.map((u) => (
          <li key={u.key} class={`upload-item ${u.state}`}>
            <span class="upload-icon" aria-hidden="true">
              {u.state === "rejected" ? (
                <AlertIcon size={18} />
              ) : u.state === "added" || u.state === "duplicate" ? (
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
              {(u.state === "uploading" || u.state === "waiting") && (
                <progress max={1} value={u.progress} aria-label={`Upload progress of ${u.name}`} />
              )}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
