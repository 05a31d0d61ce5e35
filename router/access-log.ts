/**
 * One access line per request, in Heroku's router format, as a JSON line on
 * stdout: {"app":"demo","dyno":"web.1","text":"at=info method=GET …"}.
 * The platform forwards `text` into the app's log stream as router[DYNO].
 */
export interface AccessEntry {
  app: string | null;
  dyno: string | null;
  text: string;
}

export type AccessSink = ((entry: AccessEntry) => void) & {
  /** Optional fast path: take the fields and write the JSON line without an AccessEntry in between. */
  fields?: (app: string | null, f: AccessFields) => void;
};

export interface AccessFields {
  /** Heroku error code (H10, H12 …); present ⇒ at=error. */
  code?: string;
  desc?: string;
  method: string;
  path: string;
  host: string;
  requestId: string;
  fwd: string;
  dyno: string | null;
  /** Milliseconds; undefined when no backend was reached. */
  connect?: number;
  service?: number;
  status: number;
  bytes: number;
  protocol: 'http' | 'https';
}

// Most values need no escaping: test first, rewrite only when needed (this runs per request).
const PLAIN_QUOTED = /^[^\\"\x00-\x1f\x7f]*$/;
const quote = (s: string) => (PLAIN_QUOTED.test(s) ? `"${s}"` : `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, '?')}"`);
// Host comes from the client; keep the line parseable (no spaces/quotes) whatever it sent.
const PLAIN_BARE = /^[A-Za-z0-9._:[\]*-]*$/;
const bare = (s: string) => (PLAIN_BARE.test(s) ? s : s.replace(/[^A-Za-z0-9._:[\]*-]/g, '?'));
const ms = (n: number | undefined) => (n === undefined ? '' : `${Math.max(0, Math.round(n))}ms`);

export function formatAccess(f: AccessFields): string {
  const at = f.code ? `at=error code=${f.code} desc=${quote(f.desc ?? '')}` : 'at=info';
  return (
    `${at} method=${bare(f.method)} path=${quote(f.path)} host=${bare(f.host)} request_id=${bare(f.requestId)} ` +
    `fwd=${quote(f.fwd)} dyno=${f.dyno ?? ''} connect=${ms(f.connect)} service=${ms(f.service)} status=${f.status} bytes=${f.bytes} protocol=${f.protocol}`
  );
}

// JSON string contents that JSON.stringify would leave as they are.
const PLAIN_JSON = /^[^"\\\x00-\x1f\ud800-\udfff]*$/;
const jsonInner = (s: string) => (PLAIN_JSON.test(s) ? s : JSON.stringify(s).slice(1, -1));
// quote() inside a JSON string: its quotes escaped, and whatever it escaped escaped again.
// PLAIN_BOTH is PLAIN_QUOTED and PLAIN_JSON in one test.
const PLAIN_BOTH = /^[^"\\\x00-\x1f\x7f\ud800-\udfff]*$/;
const jsonQuote = (s: string) => (PLAIN_BOTH.test(s) ? `\\"${s}\\"` : jsonInner(quote(s)));

/**
 * The access line as the JSON line `JSON.stringify({ app, dyno, text: formatAccess(f) })`, built
 * in one go (the text's quotes escaped as they are written rather than by a second pass).
 */
export function accessJson(app: string | null, f: AccessFields): string {
  const at = f.code ? `at=error code=${jsonInner(f.code)} desc=${jsonQuote(f.desc ?? '')}` : 'at=info';
  const dyno = f.dyno === null ? 'null' : `"${jsonInner(f.dyno)}"`;
  return (
    `{"app":${app === null ? 'null' : `"${jsonInner(app)}"`},"dyno":${dyno},"text":"${at} method=${bare(f.method)} path=${jsonQuote(f.path)} ` +
    `host=${bare(f.host)} request_id=${bare(f.requestId)} fwd=${jsonQuote(f.fwd)} dyno=${f.dyno === null ? '' : jsonInner(f.dyno)} ` +
    `connect=${ms(f.connect)} service=${ms(f.service)} status=${f.status} bytes=${f.bytes} protocol=${f.protocol}"}`
  );
}

/**
 * The production sink: one JSON object per line on stdout. Lines are gathered
 * and written every `flushMs` or `flushBytes`, whichever comes first: a write
 * per request was a syscall per request, a sixth of the router's CPU under
 * load (bench/router, docs/BENCHMARKS.md). Access lines are
 * best-effort: if the platform stops reading, lines are dropped (and counted on
 * stderr) once `maxBuffered` bytes are waiting, rather than growing without bound.
 * Call `flush()` before exiting.
 */
export function stdoutSink(maxBuffered = 4 * 1024 * 1024, flushMs = 20, flushBytes = 32 * 1024): AccessSink & { flush(): void } {
  const stdout = process.stdout; // a getter
  // If the platform went away the pipe breaks; that must never take the router down.
  stdout.on('error', () => {});
  let dropped = 0;
  // Lines are encoded into a buffer as they come, so that each line's string dies young instead of
  // waiting in a growing string for the next flush (which the garbage collector kept copying).
  const size = flushBytes * 2;
  let batch = Buffer.allocUnsafe(size);
  let used = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!used) return;
    const out = batch.subarray(0, used);
    batch = Buffer.allocUnsafe(size);
    used = 0;
    stdout.write(out);
  };
  const sink = (entry: AccessEntry) => append(JSON.stringify(entry));
  const append = (json: string) => {
    if (stdout.writableLength + used > maxBuffered) {
      if (dropped++ === 0) process.stderr.write('router: stdout is not being read; dropping access lines\n');
      return;
    }
    if (dropped) {
      process.stderr.write(`router: dropped ${dropped} access lines\n`);
      dropped = 0;
    }
    // Worst case 3 bytes per UTF-16 unit; a line that could not fit even an empty batch goes alone.
    if (used + json.length * 3 + 1 > size) {
      flush();
      if (json.length * 3 + 1 > size) {
        stdout.write(`${json}\n`);
        return;
      }
    }
    used += batch.write(json, used);
    batch[used++] = 10;
    if (used >= flushBytes) flush();
    else timer ??= setTimeout(flush, flushMs);
  };
  const fields = (app: string | null, f: AccessFields) => append(accessJson(app, f));
  return Object.assign(sink, { flush, fields });
}
