import Docker from 'dockerode';

/** The one way the platform opens the local Docker engine (default socket, or DOCKER_HOST). */
export function createDocker(): Docker {
  return new Docker();
}

export const STACK_IMAGE = 'paas/stack:latest';
export const BUILDER_IMAGE = 'paas/builder:latest';

/**
 * Builds, release phases and processes still booting run at a quarter of a serving container's CPU
 * weight (`SERVING_CPU_SHARES`, Docker's default): when the cores are busy, the processes already
 * answering requests (and the router) keep answering while those wait; on idle cores they still
 * get all of them.
 */
export const BACKGROUND_CPU_SHARES = 256;
export const SERVING_CPU_SHARES = 1024;
