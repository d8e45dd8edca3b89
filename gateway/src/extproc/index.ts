export { startExtProc, type ExtProcServer, type ExtProcOptions } from './extproc-server.js';
export { loadExternalProcessor, type ProcessingRequest, type ProcessingResponse, type HeaderValue } from './protocol.js';
export { PASSTHROUGH_HEADER, PASSTHROUGH_VALUE } from './routing.js';
