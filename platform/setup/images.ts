import type Docker from 'dockerode';

export async function imageId(docker: Docker, tag: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(tag).inspect()).Id;
  } catch {
    return undefined;
  }
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  return (await imageId(docker, tag)) !== undefined;
}

export interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Reads a pull/import/build progress stream to its end. The engine reports
 * failures inside the stream (HTTP status is already 200), so an `error` event
 * becomes a thrown Error carrying the last lines of output.
 */
export function followToEnd(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  signal?: AbortSignal,
  onEvent?: (event: ProgressEvent) => void,
): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    const recent: string[] = [];
    let failure: string | undefined;
    const onAbort = () => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: ProgressEvent[]) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) return reject(err);
        if (failure) return reject(new Error(`${failure}\n${recent.join('\n')}`));
        resolve(output);
      },
      (event: ProgressEvent) => {
        const text = event.stream ?? event.status;
        if (text) for (const line of text.split('\n')) if (line.trim()) recent.push(line.trimEnd());
        if (recent.length > 30) recent.splice(0, recent.length - 30);
        if (event.error || event.errorDetail) failure = event.errorDetail?.message ?? event.error;
        onEvent?.(event);
      },
    );
  });
}
