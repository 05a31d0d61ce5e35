import { invalid } from '../errors.ts';

const APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;

/** Names that would collide with the platform's own hosts and paths. */
const RESERVED = new Set(['api', 'www', 'git', 'admin', 'dashboard', 'paas', 'router', 'static', 'assets', 'healthz', 'localhost', 'login', 'logout', 'status']);

export const APP_NAME_RULE = 'app names are 3-30 characters: lowercase letters, digits and dashes, starting with a letter and not ending with a dash';

export function checkAppName(name: unknown): string {
  if (typeof name !== 'string' || !APP_NAME.test(name)) {
    throw invalid(`invalid app name ${JSON.stringify(name)}: ${APP_NAME_RULE}`);
  }
  if (RESERVED.has(name)) throw invalid(`app name "${name}" is reserved by the platform`);
  return name;
}
