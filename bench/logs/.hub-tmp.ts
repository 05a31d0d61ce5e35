import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogHub } from '../../platform/logs/hub.ts';
import { openLogStore } from '../../platform/logs/store.ts';
const flushMs = Number(process.argv[2] ?? 100), flushLines = Number(process.argv[3] ?? 5000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubtmp-'));
const store = openLogStore(path.join(dir, 'logs.db'));
let saveMs = 0, trimMs = 0;
const s0 = store.save, t0 = store.trim;
store.save = (l, c) => { const a = performance.now(); s0(l, c); saveMs += performance.now() - a; };
store.trim = (a1, k) => { const a = performance.now(); t0(a1, k); trimMs += performance.now() - a; };
const hub = createLogHub(store, { flushMs, flushLines });
const N = 300000;
const texts = Array.from({ length: 220 }, (_, i) => `seq=${String(i).padStart(9, '0')} t=1234567890.123456 ` + 'x'.repeat(170));
const times = Array.from({ length: 220 }, () => '2026-01-01T00:00:00.123456789Z');
const start = performance.now();
let n = 0;
(async () => {
  while (n < N) {
    for (let k = 0; k < 20 && n < N; k++) n += hub.writeMany('bench', 'app', `writer.${k % 4}`, texts, times, { container: 'c' + (k % 4), app: 'bench', ts: times[0], n: 1, file: '1:1', offset: n });
    await new Promise((r) => setTimeout(r, 5));
  }
  hub.flush();
  console.log(`flushMs=${flushMs} flushLines=${flushLines}: ${N} lines, total ${(performance.now() - start).toFixed(0)} ms (incl. sleeps), save ${saveMs.toFixed(0)} ms, trim ${trimMs.toFixed(0)} ms`);
  hub.close();
  fs.rmSync(dir, { recursive: true, force: true });
})();
