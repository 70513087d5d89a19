// The admin API client: JSON in and out, errors turned into sentences.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const listeners = new Set();

/** Called with no arguments whenever the API says the session is gone. */
export function onUnauthorized(f) {
  listeners.add(f);
}

export async function api(method, path, body) {
  const options = {
    method,
    credentials: 'same-origin',
    // Changes made with the session cookie must carry this header.
    headers: { 'x-uplink-admin': '1', accept: 'application/json' },
  };
  if (body !== undefined) {
    options.headers['content-type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new ApiError(0, `Cannot reach the gateway (${e.message}). Is it still running?`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.error && data.error.message
      ? data.error.message
      : `The gateway answered ${response.status} ${response.statusText || ''}`.trim();
    if (response.status === 401 && path !== '/api/login') {
      for (const f of listeners) f();
    }
    throw new ApiError(response.status, message);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

/** The client-side twin of the gateway's rule for API keys. */
export function checkApiKey(key) {
  if (!key.startsWith('sk-')) return 'The key must start with sk-';
  if (key.length < 10) return 'The key must be at least 10 characters long';
  if (/\s/.test(key)) return 'The key must not contain spaces';
  return null;
}
