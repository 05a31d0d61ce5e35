/**
 * The platform's own cost per line, without Docker: a json-file log as the engine writes it →
 * tail and line assembly → hub (SQLite batches, retention) → one live subscriber serialising each
 * batch as the websocket does, and a syslog drain formatter.
 * `npx tsx bench/logs/pipeline.ts [--lines 200000]`. Prints lines/s of one core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { followContainer } from '../../platform/logs/follower.ts';
import { createLogHub } from '../../platform/logs/hub.ts';
import { openLogStore } from '../../platform/logs/store.ts';
import { syslogFrames } from '../../platform/logs/drains/syslog-format.ts';
import { encodeBatch } from '../../platform/api/routes/logs.ts';

const i = process.argv.indexOf('--lines');
const LINES = Math.min(Math.max(i > 0 ? Number(process.argv[i + 1]) : 200_000, 1000), 2_000_000);

/** `n` json-file entries of 200-byte lines, timestamps as the engine writes them. */
function jsonLog(file: string, n: number): void {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const fd = fs.openSync(file, 'w');
  let batch: string[] = [];
  for (let k = 1; k <= n; k++) {
    const ms = base + Math.floor(k / 10);
    const time = `${new Date(ms).toISOString().slice(0, 19)}.${String((ms % 1000) * 1e6 + (k % 10) * 1000 + 1).padStart(9, '0')}Z`;
    const head = `seq=${String(k).padStart(9, '0')} `;
    batch.push(JSON.stringify({ log: `${head}${'x'.repeat(199 - head.length)}\n`, stream: 'stdout', time }) + '\n');
    if (batch.length >= 1000) {
      fs.writeSync(fd, batch.join(''));
      batch = [];
    }
  }
  fs.writeSync(fd, batch.join(''));
  fs.closeSync(fd);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-pipeline-'));
  const logPath = path.join(dir, 'c-json.log');
  jsonLog(logPath, LINES);
  const hub = createLogHub(openLogStore(path.join(dir, 'logs.db')));
  let wsBytes = 0;
  let drainBytes = 0;
  // As the websocket route and the syslog drain do: one encoding per batch.
  hub.subscribe('bench', {}, (ls) => (wsBytes += encodeBatch(ls).length));
  hub.tap((ls) => (drainBytes += syslogFrames(ls).length));
  const started = process.hrtime.bigint();
  await followContainer({ id: 'c', app: 'bench', dyno: 'writer.1' }, hub, async () => ({ logPath, running: false })).done;
  hub.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const kept = hub.history('bench', { lines: 1 })[0];
  hub.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`${LINES} lines in ${seconds.toFixed(2)} s: ${Math.round(LINES / seconds).toLocaleString('en')} lines/s on one core (${os.cpus()[0]?.model ?? '?'}); last stored: ${kept.text.slice(0, 13)}; ${(wsBytes / 1e6).toFixed(0)} MB to the subscriber, ${(drainBytes / 1e6).toFixed(0)} MB to the drain formatter`);
}

void main();
