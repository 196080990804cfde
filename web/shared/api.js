// The one HTTP helper of both pages: JSON in, JSON out, errors as Error objects carrying the
// API's `{"error":{"code","message"}}`.

/** Where the console keeps the admin token: this tab's session storage only. */
export const TOKEN_KEY = "ats-bridge.admin-token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Call the worker. `token` (optional) goes in `Authorization: Bearer`, never in the URL.
 * Resolves to the parsed JSON body (null for an empty body); rejects with ApiError.
 */
export async function request(method, path, { body, token } = {}) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let r;
  try {
    r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, "network", "The bridge could not be reached. Check your connection and try again.");
  }
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!r.ok) {
    const e = data && data.error;
    throw new ApiError(r.status, (e && e.code) || "http_" + r.status, (e && e.message) || (data && data.message) || `HTTP ${r.status}`);
  }
  return data;
}

/** Copy text to the clipboard; resolves to true when it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A date-time for people: local, minutes precision; "—" for none. */
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
