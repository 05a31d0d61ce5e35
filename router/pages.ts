/** The router's own responses, Heroku-style: a short HTML page the visitor can read. */
export interface Page {
  status: number;
  title: string;
  body: string;
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const pages = {
  noSuchApp: (host: string): Page => ({
    status: 404,
    title: 'No such app',
    body: `There is no app configured at the host <code>${escape(host || '(none)')}</code>.`,
  }),
  applicationError: (): Page => ({
    status: 503,
    title: 'Application error',
    body: 'An error occurred in the application and your page could not be served. If you are the application owner, check your logs for details (<code>paas logs --tail</code>).',
  }),
  payloadTooLarge: (limit: number): Page => ({
    status: 413,
    title: 'Payload too large',
    body: `The request body is larger than the router accepts (${limit} bytes).`,
  }),
  headersTooLarge: (): Page => ({
    status: 431,
    title: 'Request header fields too large',
    body: 'The request headers are larger than the router accepts.',
  }),
  badRequest: (): Page => ({ status: 400, title: 'Bad request', body: 'The router could not parse this request.' }),
  requestTimeout: (): Page => ({ status: 408, title: 'Request timeout', body: 'The request was not received in time.' }),
};

export function renderPage(page: Page): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(page.title)}</title>
<style>body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#333;margin:0}main{max-width:34rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}h1{font-size:1.4rem;margin-top:0}code{background:#eef;padding:0 .2em}</style>
</head>
<body><main><h1>${escape(page.title)}</h1><p>${page.body}</p></main></body>
</html>
`;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

const rendered = new Map<Page, string>();

/**
 * A complete raw HTTP/1.1 response carrying `page`: `Connection: close` unless `extraHeaders`
 * says otherwise; `bodyless` (HEAD) keeps the headers and drops the page.
 */
export function rawResponse(page: Page, extraHeaders: Record<string, string> = {}, bodyless = false): string {
  // Constant pages (application error …) are rendered once.
  let html = rendered.get(page);
  if (html === undefined) {
    html = renderPage(page);
    if (CONSTANT.has(page)) rendered.set(page, html);
  }
  const headers = {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(html)),
    'Cache-Control': 'no-store',
    Connection: 'close',
    ...extraHeaders,
  };
  let head = `HTTP/1.1 ${page.status} ${REASONS[page.status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  // The page is UTF-8; the head latin1 (ASCII): one buffer, so that both leave in one write.
  return bodyless ? `${head}\r\n` : `${head}\r\n${html}`;
}

/** Pages that never change, worth rendering once. */
const CONSTANT = new Set<Page>();
export function constantPage(page: Page): Page {
  CONSTANT.add(page);
  return page;
}
