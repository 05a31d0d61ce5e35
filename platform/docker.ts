import Docker from 'dockerode';

/** The one way the platform opens the local Docker engine (default socket, or DOCKER_HOST). */
export function createDocker(): Docker {
  return new Docker();
}

export const STACK_IMAGE = 'paas/stack:latest';
export const BUILDER_IMAGE = 'paas/builder:latest';
