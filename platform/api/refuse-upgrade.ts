import type { Duplex } from 'node:stream';

const REASONS: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 422: 'Unprocessable Entity' };

/** Answers a websocket upgrade we will not take with the API's usual JSON error, then closes. */
export function refuseUpgrade(socket: Duplex, status: 401 | 404 | 422, message: string): void {
  const body = JSON.stringify({ id: status === 401 ? 'unauthorized' : status === 404 ? 'not_found' : 'invalid_params', message });
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
