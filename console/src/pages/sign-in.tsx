import { useState, type SyntheticEvent } from 'react';
import { signIn } from '../api.ts';
import { Failure } from '../states.tsx';

/** Sign-in with the identity API; only an admin account gets past it. */
export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const submit = (event: SyntheticEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    signIn(email, password).catch((failure: unknown) => { setError(failure); setBusy(false); });
  };
  return (
    <main className="centered">
      <form className="sign-in" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">OrderStream console</h1>
        <p>Sign in with an administrator account.</p>
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required value={email} onChange={(event) => { setEmail(event.target.value); }} />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(event) => { setPassword(event.target.value); }} />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error === undefined ? null : <Failure error={error} />}
      </form>
    </main>
  );
}
