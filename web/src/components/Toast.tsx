import { useEffect, useRef, useState } from "preact/hooks";

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface ToastMessage {
  text: string;
  action?: ToastAction;
  /** A new id per announcement, so the same words twice start the timer again. */
  id: number;
}

const PLAIN_MS = 5000;
/** Long enough to find Undo; WCAG 2.2.1 asks for time, and the action stays reachable elsewhere (the Trash). */
const ACTION_MS = 10_000;

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable)
  );
}

/**
 * The announcement area: a polite live region for the words, and beside it (outside the region, so it is not
 * read twice) an optional action such as Undo, also on Ctrl+Z / Cmd+Z. The timer waits while the pointer or the
 * focus is on the toast.
 */
export function Toast({ message, onDone }: { message: ToastMessage | null; onDone: () => void }) {
  const [held, setHeld] = useState(false);
  const latest = useRef({ message, onDone });
  latest.current = { message, onDone };

  // A new message starts its own time: the pointer may rest where the last one's Undo was (no mouseleave).
  const messageId = message?.id;
  useEffect(() => setHeld(false), [messageId]);

  useEffect(() => {
    if (!message || held) return;
    const timer = setTimeout(() => latest.current.onDone(), message.action ? ACTION_MS : PLAIN_MS);
    return () => clearTimeout(timer);
  }, [message, held]);

  const action = message?.action;
  useEffect(() => {
    if (!action) return;
    const onKey = (event: KeyboardEvent) => {
      const undo = event.key.toLowerCase() === "z" && (event.ctrlKey || event.metaKey);
      if (!undo || event.shiftKey || event.altKey || isTyping(event.target)) return;
      if (document.querySelector("dialog[open]")) return;
      event.preventDefault();
      action.run();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [action]);

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: hover and focus only hold the timer; nothing to activate
    <div
      class={`toast${message ? " visible" : ""}${action ? " has-action" : ""}`}
      onMouseEnter={() => setHeld(true)}
      onMouseLeave={() => setHeld(false)}
      onFocusIn={() => setHeld(true)}
      onFocusOut={() => setHeld(false)}
    >
      <p class="toast-text" role="status" aria-live="polite">
        {message?.text}
        {action && <span class="visually-hidden"> Press Control+Z to undo.</span>}
      </p>
      {action && (
        <button
          type="button"
          class="toast-action"
          aria-keyshortcuts="Control+Z Meta+Z"
          onClick={() => action.run()}
        >
          {action.label}
        </button>
      )}
    </div>
  );
}
