#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, the same way as the platform (no separate build step).
import { register } from 'tsx/esm/api';

register();
await import('../main.ts');
