/** What one app container should be. */
export interface InstanceSpec {
  app: string;
  release: number;
  type: string;
  dyno: string;
  image: string;
  /** A shell command (Procfile), an argv (`paas run a b c`), or null for the image's own CMD. */
  command: string | string[] | null;
  env: Record<string, string>;
  memoryMb: number;
  /** Admin work nobody waits on interactively (release phase, `run:detached`): runs at BACKGROUND_CPU_SHARES. */
  background?: boolean;
}

/** What runs, as read back from the engine's labels. */
export interface Instance {
  id: string;
  app: string;
  release: number;
  type: string;
  dyno: string;
  running: boolean;
  exitCode: number | undefined;
  ip: string | undefined;
  startedAt: string | undefined;
  /** Running on the CPUs it started on, not yet given every CPU by `up()`. */
  confined: boolean;
}

/**
 * The seam between the runner and whatever runs containers: the local Docker engine now,
 * Docker Swarm next. Nothing else in the platform talks to the engine about app containers.
 */
export interface Scheduler {
  /**
   * In the background, makes ready what the app's next process needs (a new app's network, spare
   * network sandboxes), so a deploy does not wait for it once its build is done.
   */
  prepare(app: string): void;
  /**
   * Throws PlatformError `engine_unavailable` when the engine itself is down (not the app's fault).
   * The process starts on the engine's CPUs, away from the ones serving requests, until `up()`.
   */
  start(spec: InstanceSpec): Promise<Instance>;
  /** The process is up (a web one healthy): from now on it may use every CPU. */
  up(id: string): Promise<void>;
  list(app?: string): Promise<Instance[]>;
  /** One instance, or undefined once it is gone. */
  get(id: string): Promise<Instance | undefined>;
  /** Calls `onExit` whenever one of this platform's containers exits, for whatever reason. */
  watchExits(onExit: (app: string) => void): () => void;
  /** SIGTERM, then SIGKILL after the grace period, then remove; its teardown on the engine's CPUs. */
  stop(id: string, graceSeconds: number): Promise<void>;
  /**
   * A release phase: runs to completion, streaming its output, killed after `timeoutMs`, removed
   * afterwards, in the network the app's next process will have when one is made ready (`prepare`).
   * Resolves to its exit code (null when timed out).
   */
  runOnce(spec: InstanceSpec, onLine: (line: string) => void, timeoutMs: number): Promise<number | null>;
  /** A one-off process attached to the caller (`paas run`): stdin/stdout as a stream, removed when done. */
  attach(spec: InstanceSpec, tty: boolean): Promise<AttachedProcess>;
  /** Tail of a container's output, for error messages. */
  recentOutput(id: string, lines: number): Promise<string>;
  /** Every container and network of an app, with what was removed. */
  removeApp(app: string): Promise<string[]>;
}

export interface AttachedProcess {
  /** Raw bytes both ways with a TTY; without one, the engine's multiplexed stdout/stderr frames. */
  stream: NodeJS.ReadWriteStream;
  resize(cols: number, rows: number): Promise<void>;
  /** The exit code once it ends. */
  exited: Promise<number>;
  /** Kills it (if still running) and removes the container. */
  remove(): Promise<void>;
}
