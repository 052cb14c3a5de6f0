import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.js";

const messageOf = (error: unknown, fallback: string) =>
  error instanceof ApiError ? error.message : fallback;

interface ModalProps {
  title: string;
  /** Called when the dialog closes (Esc, Cancel, or after a successful submit). */
  onClose: () => void;
  children: ComponentChildren;
}

/** A modal <dialog>, open while mounted: Esc and Cancel close it, focus returns to where it was. */
function Modal({ title, onClose, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    dialog?.showModal();
    return () => {
      dialog?.close();
      opener?.focus?.();
    };
  }, []);
  return (
    <dialog ref={ref} class="confirm-dialog" aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

interface PromptDialogProps {
  title: string;
  label: string;
  initial?: string;
  submitLabel: string;
  /** Hint under the field. */
  hint?: string;
  maxLength?: number;
  onSubmit: (value: string) => Promise<void>;
  onClose: () => void;
}

/** Asks for one line of text (a name, tags); errors from the server show in the dialog. */
export function PromptDialog(props: PromptDialogProps) {
  const [value, setValue] = useState(props.initial ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fieldId = useId();
  const hintId = useId();
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form
        class="prompt-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (!value.trim()) {
            setError(`${props.label} must not be empty.`);
            return;
          }
          setBusy(true);
          props.onSubmit(value.trim()).then(
            () => props.onClose(),
            (reason: unknown) => {
              setBusy(false);
              setError(messageOf(reason, "That did not work."));
            },
          );
        }}
      >
        <label class="stacked-field" for={fieldId}>
          {props.label}
        </label>
        <input
          id={fieldId}
          class="text-input"
          value={value}
          maxLength={props.maxLength ?? 100}
          aria-describedby={props.hint ? hintId : undefined}
          aria-invalid={error ? true : undefined}
          // biome-ignore lint/a11y/noAutofocus: the dialog was opened to type this
          autoFocus
          onInput={(event) => setValue(event.currentTarget.value)}
        />
        {props.hint && (
          <small id={hintId} class="muted">
            {props.hint}
          </small>
        )}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="confirm-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            {props.submitLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

interface ConfirmDialogProps {
  title: string;
  text: string;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** Asks before something that cannot be undone; Cancel has the focus. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <p>{props.text}</p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="confirm-actions">
        {/* biome-ignore lint/a11y/noAutofocus: the safe choice takes the focus */}
        <button type="button" class="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button
          type="button"
          class="button danger solid"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            props.onConfirm().then(
              () => props.onClose(),
              (reason: unknown) => {
                setBusy(false);
                setError(messageOf(reason, "That did not work."));
              },
            );
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

interface ChooseAlbumDialogProps {
  albums: { id: string; name: string; count: number }[];
  onSubmit: (choice: { id: string } | { name: string }) => Promise<void>;
  onClose: () => void;
}

/** Picks an album of chosen photos, or names a new one. */
export function ChooseAlbumDialog({ albums, onSubmit, onClose }: ChooseAlbumDialogProps) {
  const NEW = "";
  const [choice, setChoice] = useState(albums[0]?.id ?? NEW);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const selectId = useId();
  const nameId = useId();
  return (
    <Modal title="Add to album" onClose={onClose}>
      <form
        class="prompt-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (choice === NEW && !name.trim()) {
            setError("Name the new album.");
            return;
          }
          setBusy(true);
          onSubmit(choice === NEW ? { name: name.trim() } : { id: choice }).then(
            () => onClose(),
            (reason: unknown) => {
              setBusy(false);
              setError(messageOf(reason, "The photos could not be added."));
            },
          );
        }}
      >
        <label class="stacked-field" for={selectId}>
          Album
        </label>
        <select
          id={selectId}
          class="text-input"
          value={choice}
          onChange={(event) => setChoice(event.currentTarget.value)}
        >
          {albums.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} ({a.count})
            </option>
          ))}
          <option value={NEW}>New album…</option>
        </select>
        {choice === NEW && (
          <>
            <label class="stacked-field" for={nameId}>
              New album's name
            </label>
            <input
              id={nameId}
              class="text-input"
              value={name}
              maxLength={100}
              onInput={(event) => setName(event.currentTarget.value)}
            />
          </>
        )}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="confirm-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            Add
          </button>
        </div>
      </form>
    </Modal>
  );
}
