import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A container's output as Docker's json-file driver stores it (`docker inspect` → LogPath): one
 * JSON object per message, `{"log":"text\n","stream":"stdout","time":"RFC3339Nano"}`; a message
 * without a trailing newline is part of a longer line (the driver cuts lines at 16 KB). Invalid
 * UTF-8 is already U+FFFD there (the engine encodes it so). Rotation renames `X-json.log` to
 * `X-json.log.1` (and `.1` to `.2` …) and starts a new `X-json.log`.
 */
export interface Entry {
  stream: string;
  /** The engine's timestamp, with 9 fraction digits (so that strings compare in time order). */
  ts: string;
  log: string;
  /** The file (device:inode) and the byte offsets of this entry in it. */
  file: string;
  start: number;
  end: number;
}

/** A place in a container's log: after the entry ending at `offset` of `file` (device:inode). */
export interface FilePosition {
  file: string;
  offset: number;
  /** The timestamp of the entry read last before it, at or after the one ending at `offset`. */
  ts: string;
}

/** RFC3339Nano (trailing zeros dropped) → 9 fraction digits. */
export function normalizeTs(t: string): string {
  if (t.length === 30) return t;
  const dot = t.indexOf('.', 19);
  const z = t.length - 1;
  if (dot < 0) return `${t.slice(0, z)}.000000000Z`;
  return `${t.slice(0, z)}${'0'.repeat(Math.max(0, 9 - (z - dot - 1)))}Z`;
}

const CHUNK = 64 * 1024;

interface Open {
  fh: fs.FileHandle;
  id: string;
  size: number;
  offset: number;
}

const identity = (s: { dev: number; ino: number }) => `${s.dev}:${s.ino}`;

/**
 * Reads one container's json-file log and its rotations in order, from a remembered position.
 * Files are followed by identity (device:inode) and held open, so a file renamed or deleted by a
 * rotation is still read to its end before the next one; the file finished last stays open too,
 * so that its inode cannot come back as a "new" file.
 */
export class JsonFileTail {
  private files: Open[] = [];
  private prev: Open | undefined;
  private rest: Buffer | undefined;
  private buf = Buffer.allocUnsafe(CHUNK);

  constructor(readonly logPath: string) {}

  /** Opens the log, the rotated files and the current one, oldest first; a file missing or replaced between the steps is skipped. */
  private async list(): Promise<Open[]> {
    const found: Open[] = [];
    // The current file first, then .1, .2 …: a rotation between two opens shows up as the same file twice.
    for (let k = 0; k < 10; k++) {
      const fh = await fs.open(k ? `${this.logPath}.${k}` : this.logPath, 'r').catch(() => undefined);
      if (!fh) {
        if (k) break;
        continue;
      }
      const st = await fh.stat();
      const id = identity(st);
      if (found.some((f) => f.id === id)) await fh.close();
      else found.unshift({ fh, id, size: st.size, offset: 0 });
    }
    return found;
  }

  /**
   * Opens the files to read. With `from`, reading starts right after that position when its file
   * is still there and the entry before it matches; returns false when it is not (the caller
   * then skips by timestamp), true otherwise.
   */
  async open(from?: FilePosition): Promise<boolean> {
    const all = await this.list();
    const at = from ? all.findIndex((f) => f.id === from.file && f.size >= from.offset) : -1;
    if (from && (at < 0 || !(await this.endsEntry(all[at], from)))) {
      this.files = all;
      return false;
    }
    if (at >= 0) {
      all[at].offset = from!.offset;
      for (const f of all.slice(0, Math.max(0, at - 1))) await f.fh.close();
      this.prev = at > 0 ? all[at - 1] : undefined;
      this.files = all.slice(at);
    } else this.files = all;
    return true;
  }

  /** Does an entry at or before `from.ts` end exactly at `from.offset` (not an inode used again by a newer file)? */
  private async endsEntry(f: Open, from: FilePosition): Promise<boolean> {
    if (from.offset === 0) return true;
    const start = Math.max(0, from.offset - CHUNK);
    const { bytesRead } = await f.fh.read(this.buf, 0, from.offset - start, start);
    const text = this.buf.toString('utf8', 0, bytesRead);
    if (bytesRead !== from.offset - start || !text.endsWith('\n')) return false;
    const last = text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1);
    try {
      return normalizeTs((JSON.parse(last) as { time: string }).time) <= from.ts;
    } catch {
      return false;
    }
  }

  /** Newer files than the ones held (a rotation happened), appended in order. */
  private async discover(): Promise<boolean> {
    const held = new Set([...this.files, ...(this.prev ? [this.prev] : [])].map((f) => f.id));
    let found = false;
    for (const f of await this.list()) {
      if (held.has(f.id)) await f.fh.close();
      else {
        this.files.push(f);
        found = true;
      }
    }
    return found;
  }

  /**
   * Reads everything written so far, in chunks, handing each chunk's entries to `onEntries`
   * (synchronously, so a consumer can act on them before the next read). Returns how many.
   */
  async read(onEntries: (entries: Entry[]) => void): Promise<number> {
    let total = 0;
    for (;;) {
      const cur = this.files[0];
      if (!cur) {
        if (await this.discover()) continue;
        return total;
      }
      const { bytesRead } = await cur.fh.read(this.buf, 0, CHUNK, cur.offset);
      if (bytesRead > 0) {
        const entries = this.parse(cur, bytesRead);
        total += entries.length;
        if (entries.length) onEntries(entries);
        continue;
      }
      // At the end of a file with a newer one after it: it was rotated, nothing more comes to it.
      if (this.files.length > 1) {
        await this.prev?.fh.close();
        this.prev = this.files.shift();
        this.rest = undefined;
        continue;
      }
      // Still the file at the log's path: all read. Otherwise a rotation: this one is read once
      // more to its end (its last lines may have come after our read), then the newer ones.
      const now = await fs.stat(this.logPath).catch(() => undefined);
      if (now && identity(now) === cur.id) return total;
      if (!(await this.discover())) return total;
    }
  }

  /** Whole entries of the bytes just read (after what was left of the last read). */
  private parse(f: Open, n: number): Entry[] {
    let data = this.buf.subarray(0, n);
    const base = f.offset - (this.rest?.length ?? 0);
    if (this.rest) data = Buffer.concat([this.rest, data]);
    const last = data.lastIndexOf(0x0a);
    this.rest = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : undefined;
    f.offset += n;
    const out: Entry[] = [];
    for (let i = 0; i <= last; ) {
      const nl = data.indexOf(0x0a, i);
      try {
        const e = JSON.parse(data.toString('utf8', i, nl)) as { log?: string; stream?: string; time?: string };
        if (typeof e.log === 'string' && e.time) out.push({ stream: e.stream ?? 'stdout', ts: normalizeTs(e.time), log: e.log, file: f.id, start: base + i, end: base + nl + 1 });
      } catch {
        /* not an entry: skipped */
      }
      i = nl + 1;
    }
    return out;
  }

  async close(): Promise<void> {
    for (const f of [...this.files, ...(this.prev ? [this.prev] : [])]) await f.fh.close().catch(() => {});
    this.files = [];
    this.prev = undefined;
  }

  /** The directory to watch for writes and rotations. */
  get dir(): string {
    return path.dirname(this.logPath);
  }
}
