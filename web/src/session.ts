// The pages' login (README.md, "Access"): with tokens on and no session, a small form asks for a
// token once and trades it at POST /api/session for an HttpOnly cookie, which every later
// request (fetch and EventSource alike, same origin) then carries. The top bar shows who is
// logged in and a Logout control. The token itself is never stored by the page.
import { api, ApiError, onUnauthorized } from './api';
import { byId, el } from './ui';

export interface SessionState {
  tokens: boolean;
  loggedIn: boolean;
  token: string | null;
  scope: 'read' | 'operate' | string | null;
}

const kTokensOff: SessionState = { tokens: false, loggedIn: false, token: null, scope: null };

/** Whether this session may stop deployments: always with tokens off, else an operate scope. */
export function canOperate(s: SessionState): boolean {
  return !s.tokens || s.scope === 'operate';
}

async function currentSession(): Promise<SessionState> {
  try {
    const s = await api<SessionState>('/api/session');
    return s && typeof s.tokens === 'boolean' ? s : kTokensOff;
  } catch (e) {
    // A collector without the session API answers 404: it has no login to offer.
    if (e instanceof ApiError && e.status === 404) return kTokensOff;
    throw e;
  }
}

/** The login form; resolves with the new session once a token was accepted. */
function askForToken(): Promise<SessionState> {
  document.body.classList.add('needs-login');
  const form = el('form', 'panel login');
  form.id = 'login';
  const title = el('h2', undefined, 'Log in');
  const hint = el('p', 'hint', 'This collector needs a token (zynd-collector token add NAME --scope read|operate).');
  const label = el('label', undefined, 'Token');
  const input = el('input');
  input.type = 'password';
  input.id = 'loginToken';
  input.name = 'token';
  input.autocomplete = 'off';
  input.required = true;
  label.append(input);
  const submit = el('button', 'primary', 'Log in');
  submit.type = 'submit';
  submit.id = 'loginSubmit';
  const error = el('p', 'error');
  error.id = 'loginError';
  error.hidden = true;
  form.append(title, hint, label, submit, error);
  byId('main').prepend(form);
  input.focus();

  return new Promise((resolve) => {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      try {
        const s = await api<SessionState>('/api/session', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ token: input.value.trim() }),
        });
        input.value = '';
        form.remove();
        document.body.classList.remove('needs-login');
        resolve(s);
      } catch (e) {
        const err = e as ApiError;
        error.textContent =
          err.status === 401 ? 'That token is not valid.' : 'Cannot log in: ' + err.message;
        error.hidden = false;
        submit.disabled = false;
        input.select();
      }
    });
  });
}

function showWho(s: SessionState): void {
  if (!s.loggedIn) return;
  const who = el('span', 'who', `${s.token ?? ''} (${s.scope ?? ''})`);
  who.id = 'who';
  const logout = el('button', 'small', 'Log out');
  logout.type = 'button';
  logout.id = 'logout';
  logout.addEventListener('click', async () => {
    logout.disabled = true;
    try {
      await api('/api/session', { method: 'DELETE' });
    } finally {
      location.reload();
    }
  });
  byId('session').replaceChildren(who, logout);
}

/**
 * Resolves once the page may call the API: at once with tokens off or a live session, else
 * after the login form. A later 401 (the session expired or its token was revoked) reloads the
 * page, which asks again.
 */
export async function ensureSession(): Promise<SessionState> {
  let s = await currentSession();
  if (s.tokens && !s.loggedIn) s = await askForToken();
  if (s.tokens) onUnauthorized(() => location.reload());
  showWho(s);
  return s;
}
