import { FrameSplitter } from '../container-io.ts';

/**
 * The engine's log stream (`GET /containers/ID/logs?timestamps=1`, no TTY): frames of an 8-byte
 * header (stream 1 = stdout, 2 = stderr; big-endian payload size) and a payload
 * `RFC3339NANO-TIMESTAMP SP bytes`, one log message per frame. A message without a trailing
 * newline is part of a longer line (the json-file driver splits lines at 16 KB).
 */
export interface Frame {
  stream: number;
  ts: string;
  body: Buffer;
}

/** Cuts the engine's timestamped log stream into frames, whatever the chunk boundaries. */
export class FrameParser {
  private frames = new FrameSplitter();

  push(chunk: Buffer): Frame[] {
    return this.frames.push(chunk).map(({ stream, payload }) => {
      const sp = payload.indexOf(0x20);
      return { stream, ts: sp > 0 ? payload.toString('latin1', 0, sp) : '', body: sp > 0 ? payload.subarray(sp + 1) : payload };
    });
  }
}

/** Longest line held while waiting for its end; beyond it the part so far is let out (and split at 10 KB). */
const MAX_PARTIAL = 1024 * 1024;

/**
 * Joins frames into lines per stream (stdout and stderr each have their own partial line).
 * Decoding happens on whole lines, so a UTF-8 character cut across frames survives; invalid
 * bytes become U+FFFD.
 */
export class LineAssembler {
  private partial = new Map<number, { ts: string; parts: Buffer[]; size: number }>();

  /** Returns the lines this frame completes, each with the timestamp of its first frame. */
  push(f: Frame): { ts: string; text: string }[] {
    let p = this.partial.get(f.stream);
    const complete = f.body.length > 0 && f.body[f.body.length - 1] === 0x0a;
    const body = complete ? f.body.subarray(0, f.body.length - 1) : f.body;
    if (!p) {
      if (complete) return [{ ts: f.ts, text: body.toString('utf8') }];
      p = { ts: f.ts, parts: [], size: 0 };
      this.partial.set(f.stream, p);
    }
    p.parts.push(body);
    p.size += body.length;
    if (!complete && p.size < MAX_PARTIAL) return [];
    this.partial.delete(f.stream);
    return [{ ts: p.ts, text: Buffer.concat(p.parts).toString('utf8') }];
  }

  /** Lines left unfinished when the stream ended. */
  rest(): { ts: string; text: string }[] {
    const out = [...this.partial.values()].map((p) => ({ ts: p.ts, text: Buffer.concat(p.parts).toString('utf8') }));
    this.partial.clear();
    return out;
  }
}
