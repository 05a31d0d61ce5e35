import { CliError } from './errors.ts';
import { apiUrl, token } from './credentials.ts';

/** Calls the platform API; an API error becomes a CliError carrying the API's own message. */
export async function api<T = unknown>(method: string, path: string, body?: unknown, tokenOverride?: string): Promise<T> {
  const url = apiUrl() + path;
  const auth = tokenOverride ?? token();
  if (!auth) throw new CliError('not logged in: run `paas login` or set PAAS_TOKEN');
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${auth}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach the platform at ${apiUrl()} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`npm start\` running? (PAAS_API_URL)`);
  }
  const text = await res.text();
  const data = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const message = (data as { message?: string } | undefined)?.message ?? `${res.status} ${res.statusText}`;
    throw new CliError(message);
  }
  return data as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
