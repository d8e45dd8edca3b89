import OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';

// URLs in input_file.file_url / input_image.image_url that point where only the platform can reach
// are refused with a 400 naming the part, before any byte streams and before the model is asked.
// (A redirect from a public host to a refused one needs a public host: covered by the unit tests of
// shared/src/http/safe-fetch.ts and services/responses/src/input-files/, which serve one locally.)

const REFUSED: [string, Record<string, unknown>, string, string][] = [
  ['loopback file_url', { type: 'input_file', file_url: 'http://127.0.0.1:1/secret.txt' }, 'file_url', 'loopback'],
  ['IPv6 loopback file_url', { type: 'input_file', file_url: 'http://[::1]/secret.txt' }, 'file_url', 'loopback'],
  ['decimal-encoded loopback', { type: 'input_file', file_url: 'http://2130706433/secret.txt' }, 'file_url', 'loopback'],
  ['private range file_url', { type: 'input_file', file_url: 'http://10.1.2.3/notes.txt' }, 'file_url', 'private'],
  ['private 192.168 file_url', { type: 'input_file', file_url: 'http://192.168.0.1/notes.txt' }, 'file_url', 'private'],
  ['metadata address file_url', { type: 'input_file', file_url: 'http://169.254.169.254/latest/meta-data/' }, 'file_url', 'link_local'],
  ['metadata name file_url', { type: 'input_file', file_url: 'http://metadata.google.internal/computeMetadata/v1/' }, 'file_url', 'blocked_hostname'],
  ['mapped IPv6 metadata', { type: 'input_file', file_url: 'http://[::ffff:169.254.169.254]/' }, 'file_url', 'link_local'],
  ['non-http scheme', { type: 'input_file', file_url: 'ftp://example.com/x.txt' }, 'file_url', 'scheme'],
  ['loopback image_url', { type: 'input_image', image_url: 'http://127.0.0.1/cat.png' }, 'image_url', 'loopback'],
  ['private image_url', { type: 'input_image', image_url: 'http://172.16.5.4/cat.png' }, 'image_url', 'private'],
  ['metadata image_url', { type: 'input_image', image_url: 'http://169.254.169.254/cat.png' }, 'image_url', 'link_local'],
  ['CGNAT image_url', { type: 'input_image', image_url: 'http://100.64.0.1/cat.png' }, 'image_url', 'carrier_grade_nat'],
];

describe.each(platforms)('responses: SSRF guards on input URLs ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it.each(REFUSED)('refuses a %s with a 400 naming the part', async (_name, part, field, rule) => {
    const err = await client.responses
      .create({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_text', text: 'read it' }, part as never] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const api = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(api.param).toBe(`input[0].content[1].${field}`);
    expect(api.message).toContain(rule);
    expect((await mock.requests('/v1/chat/completions')).length).toBe(0);
  });

  it('refuses before any byte streams', async () => {
    const err = await client.responses
      .create({ model: 'mock-model', stream: true, input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'http://169.254.169.254/latest/' }] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input[0].content[0].file_url');
  });

  it('refuses a background request at creation, not later', async () => {
    const err = await client.responses
      .create({ model: 'mock-model', background: true, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'http://127.0.0.1:9/x.png', detail: 'auto' }] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('keeps data URLs and forwards public image URLs as before', async () => {
    await mock.enqueue({ type: 'text', text: 'a cat' });
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo=';
    const r = await client.responses.create({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_image', image_url: dataUrl, detail: 'auto' }] }] });
    expect(r.status).toBe('completed');
    const [req] = await mock.requests('/v1/chat/completions');
    expect(req!.body.messages[0].content).toEqual([{ type: 'image_url', image_url: { url: dataUrl } }]);
  });
});
