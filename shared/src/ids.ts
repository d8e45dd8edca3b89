import { randomBytes } from 'node:crypto';

/** Every id prefix the platform mints, in one place, so that ids are recognisable by their type. */
export const ID_PREFIX = {
  response: 'resp',
  message: 'msg',
  functionCall: 'fc',
  reasoning: 'rs',
  conversation: 'conv',
  prompt: 'pmpt',
  chatCompletion: 'chatcmpl',
  fileSearchCall: 'fs',
  request: 'req',
  // Conversation items of every type the Responses API produces or accepts.
  functionCallOutput: 'fco',
  webSearchCall: 'ws',
  computerCall: 'cu',
  computerCallOutput: 'cuo',
  imageGenerationCall: 'ig',
  codeInterpreterCall: 'ci',
  localShellCall: 'lsh',
  localShellCallOutput: 'lsho',
  shellCall: 'sh',
  shellCallOutput: 'sho',
  applyPatchCall: 'apc',
  applyPatchCallOutput: 'apco',
  mcpListTools: 'mcpl',
  mcpApprovalRequest: 'mcpr',
  mcpApprovalResponse: 'mcpa',
  mcpCall: 'mcp',
  customToolCall: 'ctc',
  customToolCallOutput: 'ctco',
  conversationItem: 'item',
  vectorStore: 'vs',
  vectorStoreFileBatch: 'vsfb',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

/** Random bytes of an id: 160 bits, after the 32 bits of its creation second. */
const ID_BYTES = 20;
/** Random bytes for this many ids are drawn at once: one call into the CSPRNG per id showed in profiles. */
const POOLED_IDS = 128;
let pool = Buffer.alloc(0);
let offset = 0;
let second = -1;
let secondHex = '';

/**
 * `<prefix>_<48 hex>`, the same length OpenAI uses for most of its ids, and like theirs beginning with
 * the creation second (8 hex) before 160 random bits. Ids minted together sort together, so a
 * database index keyed by them takes new entries near one edge rather than all over: a commit of
 * new rows writes a few index pages instead of one per row (SQLite's WAL write was most of a stored
 * response's commit).
 */
export function newId(kind: IdKind): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * POOLED_IDS);
    offset = 0;
  }
  const now = Math.floor(Date.now() / 1000);
  if (now !== second) {
    second = now;
    secondHex = now.toString(16).padStart(8, '0');
  }
  const hex = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return `${ID_PREFIX[kind]}_${secondHex}${hex}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return id.startsWith(`${ID_PREFIX[kind]}_`) && id.length > ID_PREFIX[kind].length + 1;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
