import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, signIn } from "../api.js";
import { Logo } from "./Icons.js";

export function LoginPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  // Typing the password is the only thing to do on this page.
  useEffect(() => passwordRef.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(password);
      onSignedIn();
    } catch (reason) {
      setError(
        reason instanceof ApiError && reason.status === 401
          ? "That password is not right. Please try again."
          : reason instanceof ApiError
            ? reason.message
            : "Signing in failed.",
      );
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} aria-labelledby="login-title">
        <Logo size={48} />
        <h1 id="login-title">Sign in to Photocat</h1>
        <p class="muted">This catalogue is protected by a password.</p>
        <label class="stacked-field">
          <span>Password</span>
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
            ref={passwordRef}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "login-error" : undefined}
          />
        </label>
        {error && (
          <p id="login-error" class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button primary wide" disabled={busy || password === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
