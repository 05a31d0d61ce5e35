// `npm test`'s set-up step (`npm start` runs the same setUp() inside the platform process).
import { readSettings } from '../settings.ts';
import { setUp } from './set-up.ts';

setUp(readSettings().dataDir).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`\n !     Set-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
