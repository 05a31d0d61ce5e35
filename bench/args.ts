/** A benchmark's `--name VALUE` option, if given. */
export function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** A number option clamped to [min, max] (benchmarks stay bounded); `fallback` when absent or not a number. */
export function numberOption(name: string, fallback: number, min: number, max: number): number {
  const n = Number(option(name) ?? fallback);
  return Math.min(Math.max(Number.isFinite(n) ? n : fallback, min), max);
}
