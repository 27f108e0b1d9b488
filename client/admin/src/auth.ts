/** Sign-in and sign-out: the token lives in session storage; the console shows only while it is accepted. */
import { ApiError, session, setUnauthorizedHandler, verifyAdminToken } from './api';
import { byId } from './dom';
import { errorMessage } from './format';
import { connectLive, disconnectLive, setConnBadge } from './live';
import { refreshAll } from './sync';

function showSignedIn(on: boolean): void {
  byId('signin').hidden = on;
  byId('console').hidden = !on;
  byId('nav').hidden = !on;
  byId('signout').hidden = !on;
}

function signOut(message?: string): void {
  session.clear();
  disconnectLive();
  showSignedIn(false);
  setConnBadge('signed out', 'off');
  byId('signin-error').textContent = message ?? '';
}

async function signIn(token: string): Promise<void> {
  byId('signin-error').textContent = '';
  try {
    await verifyAdminToken(token);
  } catch (err) {
    const refused = err instanceof ApiError && err.status === 401;
    if (refused) session.clear();
    showSignedIn(false);
    byId('signin-error').textContent = refused
      ? `Token refused: ${errorMessage(err)}`
      : `Cannot reach the server: ${errorMessage(err)}`;
    return;
  }
  session.set(token);
  showSignedIn(true);
  connectLive(token, signOut);
  await refreshAll();
}

/** Wires the sign-in form and the sign-out button, then resumes a stored session if there is one. */
export function mountAuth(): void {
  setUnauthorizedHandler((m) => signOut(`Signed out: ${m}`));
  byId('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn(byId('signin-token', HTMLInputElement).value.trim());
  });
  byId('signout').addEventListener('click', () => signOut());
}

export function resumeSession(): void {
  const saved = session.token;
  if (saved) void signIn(saved);
  else showSignedIn(false);
}
