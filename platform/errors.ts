/** A failure the user can act on: thrown where it happens, turned into a response in one place. */
export class PlatformError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 423 | 500 | 502 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PlatformError';
  }
}

export const notFound = (what: string) => new PlatformError(404, 'not_found', `${what} not found`);
export const invalid = (message: string) => new PlatformError(422, 'invalid_params', message);
export const conflict = (message: string) => new PlatformError(409, 'conflict', message);
