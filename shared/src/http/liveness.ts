import type { RequestHandler } from 'express';

/**
 * GET /livez: the process is up and serving. Unlike /health it does not look at dependencies, so an
 * orchestrator restarting on liveness does not restart every replica when Redis or a peer is down.
 */
export const livenessHandler: RequestHandler = (_req, res) => {
  res.json({ status: 'OK' });
};
