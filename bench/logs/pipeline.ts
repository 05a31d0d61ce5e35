/**
 * The platform's own cost per line, without Docker: engine frames → parser → hub (SQLite batches,
 * retention) → one live subscriber serialising each line as the websocket does, and a syslog
 * drain formatter. `npx tsx bench/logs/pipeline.ts [--lines 200000]`. Prints lines/s of one core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { followContainer } from '../../platform/logs/follower.ts';
import { createLogHub } from '../../platform/logs/hub.ts';
import { openLogStore } from '../../platform/logs/store.ts';
import { formatLine } from '../../platform/logs/format.ts';
import { octetFrame, syslogMessage } from '../../platform/logs/drains/syslog-format.ts';

const i = process.argv.indexOf('--lines');
const LINES = Math.min(Math.max(i > 0 ? Number(process.argv[i + 1]) : 200_000, 1000), 2_000_000);

function frames(n: number): Buffer[] {
  const chunks: Buffer[] = [];
  const base = Date.parse('2026-01-01T00:00:00Z');
  let batch: Buffer[] = [];
  for (let k = 1; k <= n; k++) {
    const ms = base + Math.floor(k / 10);
    const ts = `${new Date(ms).toISOString().slice(0, 19)}.${String((ms % 1000) * 1e6 + (k % 10) * 1000).padStart(9, '0')}Z`;
    const head = `seq=${String(k).padStart(9, '0')} `;
    const body = Buffer.from(`${ts} ${head}${'x'.repeat(199 - head.length)}\n`);
    const h = Buffer.alloc(8);
    h[0] = 1;
    h.writeUInt32BE(body.length, 4);
    batch.push(h, body);
    if (batch.length >= 256) {
      chunks.push(Buffer.concat(batch));
      batch = [];
    }
  }
  if (batch.length) chunks.push(Buffer.concat(batch));
  return chunks;
}

async function main() {
  const chunks = frames(LINES);
  const hub = createLogHub(openLogStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-pipeline-')), 'logs.db')));
  let wsBytes = 0;
  let drainBytes = 0;
  hub.subscribe('bench', {}, (l) => (wsBytes += JSON.stringify({ ...l, line: formatLine(l) }).length));
  hub.tap((l) => (drainBytes += octetFrame(syslogMessage(l)).length));
  const stream = new PassThrough({ highWaterMark: 1 << 20 });
  const started = process.hrtime.bigint();
  const reading = followContainer({ id: 'c', app: 'bench', dyno: 'writer.1' }, hub, async () => stream as Readable, new AbortController().signal);
  for (const c of chunks) if (!stream.write(c)) await new Promise((r) => stream.once('drain', r));
  stream.end();
  await reading;
  hub.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const kept = hub.history('bench', { lines: 1 })[0];
  hub.close();
  console.log(`${LINES} lines in ${seconds.toFixed(2)} s: ${Math.round(LINES / seconds).toLocaleString('en')} lines/s on one core (${os.cpus()[0]?.model ?? '?'}); last stored: ${kept.text.slice(0, 13)}; ${(wsBytes / 1e6).toFixed(0)} MB to the subscriber, ${(drainBytes / 1e6).toFixed(0)} MB to the drain formatter`);
}

void main();
