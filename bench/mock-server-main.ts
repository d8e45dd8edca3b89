import { MockModelServer } from '../test/support/mock-model-server.js';

// The zero-delay model server of the benchmark, in a process of its own so that it does not share
// an event loop with the load generator. PORT is chosen by the parent.
const mock = await MockModelServer.start({}, Number(process.env.PORT ?? 0));

// The mock records every request for the tests' assertions; under load that list would grow without
// bound and make the mock slower (GC) as the run goes on, which would skew later measurements.
setInterval(() => {
  mock.requests.length = 0;
}, 500).unref();

const stop = () => void mock.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
