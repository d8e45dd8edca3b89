// The launcher lives in scripts/launcher.ts (shared with the bench and `npm run start:distributed`);
// tests keep importing these names from here.
export { freePort, REPO_ROOT, spawnTs, tail, waitHealthy, type ManagedProcess } from '../../scripts/launcher.js';
