import Docker from 'dockerode';

/** The one way the platform opens the local Docker engine (default socket, or DOCKER_HOST). */
export function createDocker(): Docker {
  return new Docker();
}

export const STACK_IMAGE = 'paas/stack:latest';
export const BUILDER_IMAGE = 'paas/builder:latest';

/**
 * Builds run at a quarter of an app container's CPU weight (Docker's default is 1024): when the
 * cores are busy, running apps (and the router) keep answering while a build waits; on idle cores
 * a build still gets all of them.
 */
export const BUILD_CPU_SHARES = 256;
