import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, reanalysePhoto, similarPhotos, trashPhoto, updatePhoto } from "../api.js";
import {
  altFor,
  categoryLabel,
  formatCount,
  formatDate,
  formatMs,
  formatUsd,
  isPending,
  placeholderUrl,
} from "../format.js";
import type { CategoryCount, EditableFields, Photo } from "../types.js";
import {
  ChevronLeft,
  ChevronRight,
  CloseIcon,
  DownloadIcon,
  EditIcon,
  RefreshIcon,
  SpeakerIcon,
  StopIcon,
  TrashIcon,
} from "./Icons.js";
import { CategoryChip } from "./PhotoCard.js";

interface PhotoDialogProps {
  photo: Photo;
  /** Its place among the loaded photos; -1 when it is not one of them (opened by a link): no arrows then. */
  index: number;
  count: number;
  hasMore: boolean;
  categories: CategoryCount[];
  onClose: () => void;
  onNavigate: (delta: -1 | 1) => void;
  onChanged: (photo: Photo) => void;
  /** Moved to the trash: the gallery closes the dialog and offers Undo. */
  onTrashed: (photo: Photo) => void;
  /** Shows another photo in the dialog (one of "More like this"). */
  onOpenPhoto: (photo: Photo) => void;
  announce: (message: string) => void;
}

const canSpeak = typeof window !== "undefined" && "speechSynthesis" in window;

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable)
  );
}

const SOURCE_LABELS: Record<string, string> = {
  xmp: "XMP",
  iptc: "IPTC",
  exif: "EXIF",
  "xmp sidecar": "XMP sidecar",
  takeout: "Google Takeout",
};
const sourceLabel = (source: string) => SOURCE_LABELS[source] ?? source;

function Field({ label, children }: { label: string; children: JSX.Element | string | null }) {
  if (children === null || children === "") return null;
  return (
    <div class="field">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function PhotoDialog(props: PhotoDialogProps) {
  const { photo, index, count, hasMore, onClose, onNavigate, announce } = props;
  const dialogRef = useRef<HTMLDialogElement>(null);
  const confirmRef = useRef<HTMLDialogElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const cancelTrashRef = useRef<HTMLButtonElement>(null);
  const editRef = useRef<HTMLButtonElement>(null);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState<"" | "save" | "reanalyse" | "trash">("");
  const [error, setError] = useState<string | null>(null);
  const [speaking, setSpeaking] = useState(false);
  const [largeLoaded, setLargeLoaded] = useState(false);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
    // Focus starts on Close: safe, and arrow keys work from there.
    closeRef.current?.focus();
    return () => {
      if (canSpeak) window.speechSynthesis.cancel();
    };
  }, []);

  // A new photo: leave edit mode, stop speaking, show its placeholder until the large image arrives.
  useEffect(() => {
    setEditing(false);
    setError(null);
    setLargeLoaded(false);
    if (canSpeak) window.speechSynthesis.cancel();
    setSpeaking(false);
  }, [photo.id]);

  // Read through a ref: a key pressed right after a render must see that render's position.
  const position = useRef({ index, count, hasMore, onNavigate });
  position.current = { index, count, hasMore, onNavigate };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const blocked = confirmRef.current?.open || isTyping(event.target);
      if (blocked || event.altKey || event.ctrlKey || event.metaKey) return;
      const { index, count, hasMore, onNavigate } = position.current;
      if (event.key === "ArrowLeft" && index > 0) {
        event.preventDefault();
        onNavigate(-1);
      } else if (event.key === "ArrowRight" && index >= 0 && (index < count - 1 || hasMore)) {
        event.preventDefault();
        onNavigate(1);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const finishEditing = () => {
    setEditing(false);
    requestAnimationFrame(() => editRef.current?.focus());
  };

  const run = async (kind: "save" | "reanalyse" | "trash", action: () => Promise<void>) => {
    setBusy(kind);
    setError(null);
    try {
      await action();
    } catch (reason) {
      setError(reason instanceof ApiError ? reason.message : "Something went wrong. Please try again.");
    } finally {
      setBusy("");
    }
  };

  const save = (fields: EditableFields) =>
    run("save", async () => {
      const updated = await updatePhoto(photo.id, fields);
      props.onChanged(updated);
      finishEditing();
      announce("Changes saved");
    });

  const reanalyse = () =>
    run("reanalyse", async () => {
      const updated = await reanalysePhoto(photo.id);
      props.onChanged(updated);
      announce("Describing the photo again");
    });

  const moveToTrash = () =>
    run("trash", async () => {
      await trashPhoto(photo.id);
      confirmRef.current?.close();
      props.onTrashed(photo);
    });

  const toggleSpeech = () => {
    if (!canSpeak) return;
    const synth = window.speechSynthesis;
    if (speaking) {
      synth.cancel();
      setSpeaking(false);
      return;
    }
    const parts = [photo.summary || altFor(photo)];
    if (photo.text) parts.push(`Text in the photo: ${photo.text}`);
    const utterance = new SpeechSynthesisUtterance(parts.join(". "));
    utterance.lang = document.documentElement.lang || "en";
    utterance.onend = () => setSpeaking(false);
    utterance.onerror = () => setSpeaking(false);
    synth.cancel();
    synth.speak(utterance);
    setSpeaking(true);
  };

  const placeholder = placeholderUrl(photo.thumbhash);
  const pending = isPending(photo);
  const edited = photo.edited && Object.keys(photo.edited).length > 0;
  const titleId = `photo-title-${photo.id}`;
  const a = photo.analysis;
  const own = photo.own_words;
  const modelWords = photo.model_words;

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the backdrop click mirrors Esc, which the dialog handles natively
    <dialog
      ref={dialogRef}
      class="photo-dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        // Esc first leaves the edit form, then closes the photo.
        if (editing) finishEditing();
        else onClose();
      }}
      onClick={(event) => {
        // A click on the backdrop (the dialog box itself, outside its content) closes it.
        if (event.target === dialogRef.current) onClose();
      }}
    >
      <div class="photo-dialog-body">
        <div class="viewer" style={placeholder ? { backgroundImage: `url("${placeholder}")` } : undefined}>
          <img
            key={photo.thumbnails.large}
            src={photo.thumbnails.large}
            alt={altFor(photo)}
            class={largeLoaded ? "loaded" : undefined}
            onLoad={() => setLargeLoaded(true)}
          />
          <div class="viewer-bar">
            <button type="button" class="viewer-button" onClick={onClose} aria-label="Close" ref={closeRef}>
              <CloseIcon />
            </button>
            <div class="viewer-actions">
              <a
                class="viewer-button"
                href={photo.original}
                download={photo.original_name}
                aria-label="Download original"
                title="Download original"
              >
                <DownloadIcon />
              </a>
              <button
                type="button"
                class="viewer-button"
                onClick={reanalyse}
                disabled={pending || busy !== ""}
                aria-label="Re-analyse"
                title="Describe again"
              >
                <RefreshIcon />
              </button>
              <button
                type="button"
                class="viewer-button"
                onClick={() => {
                  confirmRef.current?.showModal();
                  cancelTrashRef.current?.focus();
                }}
                disabled={busy !== ""}
                aria-label="Move to trash"
                title="Move to trash"
              >
                <TrashIcon />
              </button>
            </div>
          </div>
          <button
            type="button"
            class="viewer-nav prev"
            onClick={() => onNavigate(-1)}
            disabled={index <= 0}
            aria-label="Previous photo"
          >
            <ChevronLeft size={28} />
          </button>
          <button
            type="button"
            class="viewer-nav next"
            onClick={() => onNavigate(1)}
            disabled={index < 0 || (index >= count - 1 && !hasMore)}
            aria-label="Next photo"
          >
            <ChevronRight size={28} />
          </button>
        </div>

        <section class="details" aria-labelledby={titleId}>
          <header class="details-header">
            <h2 id={titleId} class="details-title" title={photo.original_name}>
              {photo.original_name}
            </h2>
            {index >= 0 && (
              <p class="details-position muted">
                {formatCount(index + 1)} of {formatCount(count)}
                {hasMore ? "+" : ""}
              </p>
            )}
          </header>

          {error && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}

          {editing ? (
            <EditForm
              photo={photo}
              categories={props.categories}
              saving={busy === "save"}
              onSave={save}
              onCancel={finishEditing}
            />
          ) : (
            <div class="description">
              {pending ? (
                <p class="describing-block" role="status">
                  <span class="spinner" aria-hidden="true" /> Describing this photo…
                </p>
              ) : photo.status === "failed" ? (
                <p class="card-error">Describing failed: {photo.error || "unknown error"}</p>
              ) : (
                <>
                  <p class="details-summary">{photo.summary}</p>
                  <div class="details-chips">
                    <CategoryChip slug={photo.category} />
                    {edited && <span class="badge">Edited</span>}
                  </div>
                </>
              )}
              <div class="details-actions">
                {canSpeak && !pending && (
                  <button type="button" class="button" onClick={toggleSpeech} aria-pressed={speaking}>
                    {speaking ? <StopIcon size={18} /> : <SpeakerIcon size={18} />}
                    {speaking ? "Stop reading" : "Read aloud"}
                  </button>
                )}
                <button
                  type="button"
                  class="button"
                  onClick={() => setEditing(true)}
                  disabled={pending}
                  ref={editRef}
                >
                  <EditIcon size={18} />
                  Edit
                </button>
              </div>
            </div>
          )}

          {!pending && <MoreLikeThis photo={photo} onOpen={props.onOpenPhoto} />}

          <dl class="fields">
            {!editing && (
              <Field label="Tags">
                {photo.tags.length > 0 ? (
                  <ul class="tags" aria-label="Tags">
                    {photo.tags.map((tag) => (
                      <li key={tag} class="tag">
                        {tag}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </Field>
            )}
            {!editing && <Field label="Alt text">{photo.alt_text}</Field>}
            <Field label="Text in the photo">
              {photo.text ? <span class="visible-text">{photo.text}</span> : null}
            </Field>
          </dl>

          <dl class="fields compact">
            <Field label="Taken">{formatDate(photo.taken_at)}</Field>
            <Field label="Camera">{photo.camera}</Field>
            <Field label="Place">{photo.place}</Field>
            <Field label="Size">
              {photo.width && photo.height ? `${photo.width} × ${photo.height} · ${photo.media_type}` : null}
            </Field>
            <Field label="Added">{formatDate(photo.created_at)}</Field>
          </dl>

          {own && (
            <section class="provenance" aria-labelledby={`${titleId}-own`}>
              <h3 id={`${titleId}-own`}>In the file</h3>
              <p class="muted source-note">
                The photo's own words ({own.sources.map(sourceLabel).join(", ")}): they win over the model's,
                and your edits win over them.
              </p>
              <dl class="fields compact">
                <Field label="Title">{own.title}</Field>
                <Field label="Caption">{own.description}</Field>
                <Field label="Keywords">{own.keywords.length > 0 ? own.keywords.join(", ") : null}</Field>
                <Field label="Alt text">{own.alt_text}</Field>
              </dl>
            </section>
          )}
          {modelWords && (own || edited) && (
            <section class="provenance" aria-labelledby={`${titleId}-model`}>
              <h3 id={`${titleId}-model`}>The model's words</h3>
              <dl class="fields compact">
                <Field label="Summary">{modelWords.summary}</Field>
                <Field label="Category">{modelWords.category}</Field>
                <Field label="Tags">{modelWords.tags.length > 0 ? modelWords.tags.join(", ") : null}</Field>
                <Field label="Alt text">{modelWords.alt_text}</Field>
              </dl>
            </section>
          )}
          {photo.metadata_notes.length > 0 && (
            <section class="provenance" aria-labelledby={`${titleId}-notes`}>
              <h3 id={`${titleId}-notes`}>Metadata not read</h3>
              <ul class="metadata-notes">
                {photo.metadata_notes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            </section>
          )}
          <p class="details-links">
            <a href={`${photo.original}?metadata=embedded`} download={photo.original_name}>
              Download with the description inside
            </a>
            {" · "}
            <a href={photo.xmp} download>
              XMP sidecar
            </a>
          </p>

          {a && (
            <section class="provenance" aria-labelledby={`${titleId}-provenance`}>
              <h3 id={`${titleId}-provenance`}>Described by</h3>
              <dl class="fields compact">
                <Field label="Provider">{a.provider}</Field>
                <Field label="Model">{a.model}</Field>
                <Field label="Prompt version">{a.prompt_version}</Field>
                <Field label="Tokens">
                  {`${formatCount(a.input_tokens)} in · ${formatCount(a.output_tokens)} out`}
                </Field>
                <Field label="Cost">{formatUsd(a.cost_usd)}</Field>
                <Field label="Time">{formatMs(a.ms)}</Field>
              </dl>
            </section>
          )}
        </section>
      </div>

      <dialog
        ref={confirmRef}
        class="confirm-dialog"
        aria-labelledby={`${titleId}-confirm`}
        aria-describedby={`${titleId}-confirm-text`}
      >
        <h2 id={`${titleId}-confirm`}>Move this photo to the trash?</h2>
        <p id={`${titleId}-confirm-text`}>
          “{photo.original_name}” leaves your library. You can restore it from the Trash until the trash is
          emptied.
        </p>
        <div class="confirm-actions">
          <button
            type="button"
            class="button"
            onClick={() => confirmRef.current?.close()}
            ref={cancelTrashRef}
          >
            Cancel
          </button>
          <button type="button" class="button danger solid" onClick={moveToTrash} disabled={busy === "trash"}>
            {busy === "trash" ? "Moving…" : "Move to trash"}
          </button>
        </div>
      </dialog>
    </dialog>
  );
}

type Similar =
  | { state: "idle" | "loading" }
  | { state: "shown"; photos: Photo[] }
  | { state: "failed"; message: string };

/** "More like this": on request, the photos nearest this one, as thumbnails that open them here. */
function MoreLikeThis({ photo, onOpen }: { photo: Photo; onOpen: (photo: Photo) => void }) {
  const [similar, setSimilar] = useState<Similar>({ state: "idle" });
  const listId = `similar-${photo.id}`;
  // Another photo: its own neighbours, when asked.
  useEffect(() => setSimilar({ state: "idle" }), [photo.id]);

  const show = async () => {
    if (similar.state === "shown") {
      setSimilar({ state: "idle" });
      return;
    }
    setSimilar({ state: "loading" });
    try {
      setSimilar({ state: "shown", photos: await similarPhotos(photo.id) });
    } catch (reason) {
      setSimilar({
        state: "failed",
        message:
          reason instanceof ApiError && reason.status === 409
            ? "No similar photos yet: this photo has no image embedding (it gets one when the offline analyser describes it)."
            : reason instanceof ApiError
              ? reason.message
              : "Similar photos could not be loaded.",
      });
    }
  };

  return (
    <section class="similar" aria-labelledby={`${listId}-title`}>
      <h3 id={`${listId}-title`} class="visually-hidden">
        More like this
      </h3>
      <button
        type="button"
        class="button"
        onClick={show}
        aria-expanded={similar.state === "shown"}
        aria-controls={listId}
        disabled={similar.state === "loading"}
      >
        {similar.state === "loading" ? "Finding similar photos…" : "More like this"}
      </button>
      <div id={listId} role="status">
        {similar.state === "failed" && <p class="muted">{similar.message}</p>}
        {similar.state === "shown" && similar.photos.length === 0 && (
          <p class="muted">No other photo is like this one yet.</p>
        )}
      </div>
      {similar.state === "shown" && similar.photos.length > 0 && (
        <ul class="similar-list" aria-label="Similar photos">
          {similar.photos.map((other) => (
            <li key={other.id}>
              <button
                type="button"
                class="similar-item"
                onClick={() => onOpen(other)}
                aria-label={`Open ${altFor(other)}`}
                title={other.summary ?? other.original_name}
              >
                <img class="similar-thumb" src={other.thumbnails.small} alt="" loading="lazy" />
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function EditForm({
  photo,
  categories,
  saving,
  onSave,
  onCancel,
}: {
  photo: Photo;
  categories: CategoryCount[];
  saving: boolean;
  onSave: (fields: EditableFields) => void;
  onCancel: () => void;
}) {
  const [summary, setSummary] = useState(photo.summary ?? "");
  const [category, setCategory] = useState(photo.category ?? "");
  const [tags, setTags] = useState(photo.tags.join(", "));
  const [altText, setAltText] = useState(photo.alt_text ?? "");
  const summaryRef = useRef<HTMLTextAreaElement>(null);
  // The person just asked to edit: the summary is what they most often change.
  useEffect(() => summaryRef.current?.focus(), []);
  const slugs = categories.map((c) => c.slug);
  if (photo.category && !slugs.includes(photo.category)) slugs.push(photo.category);

  const submit = (event: Event) => {
    event.preventDefault();
    const fields: EditableFields = {};
    if (summary.trim() !== (photo.summary ?? "")) fields.summary = summary.trim();
    if (category && category !== photo.category) fields.category = category;
    const tagList = [
      ...new Set(
        tags
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ];
    if (tagList.join("\n") !== photo.tags.join("\n")) fields.tags = tagList;
    if (altText.trim() !== (photo.alt_text ?? "")) fields.alt_text = altText.trim();
    if (Object.keys(fields).length === 0) {
      onCancel();
      return;
    }
    onSave(fields);
  };

  return (
    <form class="edit-form" onSubmit={submit} aria-label="Edit description">
      <label>
        <span>Summary</span>
        <textarea
          value={summary}
          onInput={(e) => setSummary(e.currentTarget.value)}
          rows={3}
          maxLength={400}
          required
          ref={summaryRef}
        />
      </label>
      <label>
        <span>Category</span>
        <select value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
          {slugs.map((slug) => (
            <option key={slug} value={slug}>
              {categoryLabel(slug)}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Tags</span>
        <input
          type="text"
          value={tags}
          onInput={(e) => setTags(e.currentTarget.value)}
          aria-describedby="tags-hint"
        />
        <small id="tags-hint" class="muted">
          Separate tags with commas.
        </small>
      </label>
      <label>
        <span>Alt text</span>
        <textarea
          value={altText}
          onInput={(e) => setAltText(e.currentTarget.value)}
          rows={2}
          maxLength={125}
        />
      </label>
      <div class="form-actions">
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="button primary" disabled={saving}>
          {saving ? "Saving…" : "Save changes"}
        </button>
      </div>
    </form>
  );
}
