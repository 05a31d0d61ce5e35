import type { TokenOwner } from '../auth/tokens.ts';

/** Hono's typed context variables for authenticated API routes. */
export type ApiEnv = { Variables: { user: TokenOwner } };
