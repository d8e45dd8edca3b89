import http from 'node:http';

// The floor of the benchmark: the least a node:http proxy can do and still route by model. It reads
// the body, parses it to find `model`, forwards it over a keep-alive agent and pipes the reply back.
// No validation, request id, logging, error envelope or abort handling. UPSTREAM is the mock's origin.
const upstream = new URL(process.env.UPSTREAM!);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

http
  .createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(200).end(); // readiness probe
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const { model } = JSON.parse(body.toString('utf8')) as { model?: string };
      if (typeof model !== 'string') {
        res.writeHead(400).end();
        return;
      }
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (reply) => {
          const headers: Record<string, string> = { 'content-type': reply.headers['content-type'] ?? 'application/json' };
          if (reply.headers['content-length']) headers['content-length'] = reply.headers['content-length'];
          res.writeHead(reply.statusCode ?? 502, headers);
          reply.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      out.end(body);
    });
  })
  .listen(Number(process.env.PORT), '127.0.0.1');

// Exit through process.exit so that --cpu-prof (BENCH_CPU_PROF=1) gets to write its profile.
process.once('SIGTERM', () => process.exit(0));
