// Small DOM and HTTP helpers shared by the dashboard's page scripts (ES modules, no build step).
// DOM nodes are built with textContent, never innerHTML.
export const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
export const page = document.body.dataset.page;
export const appName = document.body.dataset.app;
export const POLL_MS = 2000;

export const $ = (sel) => document.querySelector(sel);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** One request to the dashboard's server; API errors come back as Error(message in words). */
export async function request(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new Error('Could not reach the platform. Is it running?');
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (res.status === 401) {
    location.assign('/login');
    throw new Error('Your session ended; sign in again.');
  }
  if (!res.ok) {
    const message = data && typeof data.message === 'string' && data.message ? data.message : `The platform answered ${res.status}.`;
    const err = new Error(res.status === 403 ? `${message}` : message);
    err.status = res.status;
    throw err;
  }
  return data;
}

export function say(el, text, kind = 'ok') {
  el.textContent = text;
  el.className = `msg ${kind}`;
  el.hidden = !text;
}

export function ago(iso) {
  if (!iso) return '';
  const t = Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
export const when = (iso) => h('time', { datetime: iso, title: iso }, ago(iso));

export const badge = (state) => h('span', { class: `badge state-${String(state).replace(/\s+/g, '-')}` }, state);

export function table(caption, headers, rows) {
  return h('table', {},
    h('caption', { class: 'sr-only' }, caption),
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows));
}

export function replace(el, ...children) {
  el.replaceChildren(...children);
  el.removeAttribute('aria-busy');
}

/** Runs fn now and every POLL_MS after it settles. */
export function poll(fn) {
  const tick = async () => {
    try {
      await fn();
    } catch (err) {
      console.error(err);
    }
    setTimeout(tick, POLL_MS);
  };
  void tick();
}

/** Renders only when the data changed, so polling does not disturb focus or scrolling. */
export function changed(key, data) {
  const sig = JSON.stringify(data);
  if (changed.seen[key] === sig) return false;
  changed.seen[key] = sig;
  return true;
}
changed.seen = {};

export const confirmDialog = (text) => new Promise((resolve) => {
  const dialog = $('#confirm-dialog');
  $('#confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  dialog.showModal();
});
