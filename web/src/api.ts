// Types and fetch helpers for the collector's REST contract (README.md, "HTTP API"). Every text
// that comes from the API is shown with textContent only; nothing here builds HTML from data.

export type Status = 'running' | 'unhealthy' | 'crashed' | 'stopped';

export interface Deployment {
  id: string;
  name: string | null;
  slug: string | null;
  entityType: string | null;
  status: Status | string;
  publicUrl: string | null;
  registryUrl: string | null;
  entityId: string | null;
  publicKey: string | null;
  hostPort: number | null;
  host?: string | null; // the collector's --host-id (a fleet's central instance: the owning host)
  containerId: string | null;
  createdAt: string | null;
  startedAt: string | null;
  lastExitCode: number | null;
  lastCrashAt: string | null;
  errorMessage: string | null;
}

export interface LogLine {
  lineNo: number;
  stream: 'stdout' | 'stderr' | 'system' | string;
  ts: string;
  text: string;
}

export interface LogPage {
  lines: LogLine[];
  nextSince: number;
  oldestLineNo: number | null;
}

export interface Sample {
  sampledAt: string;
  cpuPct: number | null;
  memUsedMb: number | null;
  memLimitMb: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const kTimeoutMs = 10_000;

let unauthorized: (() => void) | null = null;
/** Called once when an API call other than /api/session answers 401 (the session ended). */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

/** Fetches JSON with a deadline; throws ApiError with the body's {error,message} when not 2xx. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), kTimeoutMs);
  try {
    const res = await fetch(path, {
      ...init,
      signal: ctl.signal,
      headers: { Accept: 'application/json', ...(init.headers ?? {}) },
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!res.ok) {
      if (res.status === 401 && path !== '/api/session' && unauthorized) {
        const fn = unauthorized;
        unauthorized = null;
        fn();
      }
      const b = (body ?? {}) as { error?: string; message?: string };
      throw new ApiError(res.status, b.error ?? 'http_' + res.status, b.message ?? res.statusText);
    }
    return body as T;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    const msg = (e as Error).name === 'AbortError' ? 'request timed out' : (e as Error).message;
    throw new ApiError(0, 'network', msg);
  } finally {
    clearTimeout(timer);
  }
}

export const idPath = (id: string) => '/api/deployments/' + encodeURIComponent(id);

// Whether these pages are served by a fleet's central instance (`--runtime none`, every host's
// deployments; docs/fleet.md), from /healthz (open without a token; its body is read whatever
// its status, 503 included). Asked once per page load; false when it cannot be told.
let central: Promise<boolean> | null = null;
export function isCentral(): Promise<boolean> {
  central ??= fetch('/healthz', { headers: { Accept: 'application/json' } })
    .then((res) => res.json())
    .then((h: { runtime?: { plugin?: string } }) => h?.runtime?.plugin === 'none')
    .catch(() => false);
  return central;
}
