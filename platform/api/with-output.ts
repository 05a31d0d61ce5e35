import { PlatformError } from '../errors.ts';

/**
 * Runs an action that narrates (release phase, launch) and returns its lines with the result;
 * on failure the lines go into the error message, so the user sees why.
 */
export async function withOutput<T>(action: (line: (text: string) => void) => Promise<T>): Promise<{ result: T; output: string[] }> {
  const output: string[] = [];
  try {
    return { result: await action((text) => output.push(...text.replace(/\n$/, '').split('\n'))), output };
  } catch (err) {
    if (err instanceof PlatformError && output.length) throw new PlatformError(err.status, err.code, `${output.join('\n')}\n${err.message}`);
    throw err;
  }
}
