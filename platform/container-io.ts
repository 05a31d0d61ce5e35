import { Readable, Writable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';

/** One frame of the engine's multiplexed output: stream 1 = stdout, 2 = stderr. */
export interface Frame {
  stream: number;
  payload: Buffer;
}

/**
 * Cuts the engine's multiplexed output (no TTY: an 8-byte header — stream, then a big-endian
 * payload size — before each payload) into frames, whatever the chunk boundaries.
 */
export class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    let i = 0;
    while (i + 8 <= this.buf.length) {
      const size = this.buf.readUInt32BE(i + 4);
      if (i + 8 + size > this.buf.length) break;
      frames.push({ stream: this.buf[i], payload: this.buf.subarray(i + 8, i + 8 + size) });
      i += 8 + size;
    }
    this.buf = this.buf.subarray(i);
    return frames;
  }
}

/** A writable that hands complete lines (without the newline) to `onLine`. */
export function lineWriter(onLine: (line: string) => void): Writable & { flushRest(): void } {
  let rest = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = rest + chunk.toString('utf8');
      const lines = text.split(/\r?\n/);
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      done();
    },
  }) as Writable & { flushRest(): void };
  w.flushRest = () => {
    if (rest) onLine(rest);
    rest = '';
  };
  return w;
}

/** An in-memory tar of small files (path → content). */
export function smallTar(files: Record<string, { content: string | Buffer; mode?: number }>): NodeJS.ReadableStream {
  const pack = tar.pack();
  for (const [name, { content, mode }] of Object.entries(files)) pack.entry({ name, mode: mode ?? 0o644 }, content);
  pack.finalize();
  return Readable.from(pack);
}

/** Reads the regular files of a tar stream (e.g. from getArchive) into memory, keyed by path. */
export async function readTarFiles(stream: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks));
  }
  return files;
}

/**
 * Starts a created container (unless `running`: one started already, waiting for its stdin) and
 * streams its stdout+stderr line by line until it exits, feeding it `stdin` when given (the
 * container must then be created with OpenStdin and StdinOnce).
 * Resolves to the exit code, or null when it was killed for running past `timeoutMs`.
 */
export async function runToExit(
  docker: Docker,
  container: Docker.Container,
  onLine: (line: string) => void,
  timeoutMs = Infinity,
  { stdin, running = false }: { stdin?: Readable; running?: boolean } = {},
): Promise<number | null> {
  const stream = await container.attach({ stream: true, stdout: true, stderr: true, ...(stdin ? { stdin: true, hijack: true } : {}) });
  const lines = lineWriter(onLine);
  docker.modem.demuxStream(stream, lines, lines);
  const ended = new Promise<void>((resolve) => stream.on('end', resolve).on('close', resolve));
  if (!running) await container.start();
  stdin?.pipe(stream);
  let timedOut = false;
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
        timedOut = true;
        container.kill().catch(() => {});
      }, timeoutMs)
    : undefined;
  const { StatusCode } = await container.wait();
  clearTimeout(timer);
  await Promise.race([ended, new Promise((r) => setTimeout(r, 1000))]);
  lines.flushRest();
  return timedOut ? null : (StatusCode as number);
}
