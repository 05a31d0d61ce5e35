import type { Context } from 'hono';
import { z } from 'zod';
import { PlatformError, invalid } from '../errors.ts';

/** Parses and validates a JSON body; malformed JSON is a 400, a wrong shape a 422 naming the field. */
export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = text === '' ? {} : JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) throw new PlatformError(400, 'bad_request', `request body is not valid JSON: ${err.message}`);
    throw err;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw invalid(`${where}${issue.message}`);
  }
  return parsed.data;
}
