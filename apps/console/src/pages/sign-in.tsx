import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api';
import { ProblemView } from '../components/problem-view';

const MAX_KEY = 512;

/** Sign in with an API key (the root key too): traded at once for a session, the key forgotten. */
export function SignInPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  return (
    <main id="main" class="sign-in">
      <h1>Circuit Breaker console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (busy || key.trim() === '') return;
          setBusy(true);
          setError(undefined);
          signIn(key)
            .then((s) => {
              setKey('');
              onSignedIn(s);
            })
            .catch((err: unknown) => setError(err))
            .finally(() => setBusy(false));
        }}
      >
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          maxLength={MAX_KEY}
          required
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ProblemView error={error} title="Sign-in failed" />
    </main>
  );
}
