import Docker from 'dockerode';

/** The one way the platform opens the local Docker engine (default socket, or DOCKER_HOST). */
export function createDocker(): Docker {
  return new Docker();
}

export const STACK_IMAGE = 'paas/stack:latest';
export const BUILDER_IMAGE = 'paas/builder:latest';

/**
 * Background work — builds, release phases, `paas run:detached` — runs at a quarter of an app
 * container's CPU weight (Docker's default is 1024): when the cores are busy, running apps (and
 * the router) keep answering while it waits; on idle cores it still gets all of them.
 */
export const BACKGROUND_CPU_SHARES = 256;
