import { InvalidRequestError } from '@rgw/shared';
import type { InstructionMessage, ResponseItem } from '../wire/response-types.js';

/** A Chat Completions message as we send it upstream. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | ChatContentPart[] | null;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } }
  | { type: 'file'; file: Record<string, string> };

/** Maps an item type the core does not know (a server tool's own items) to chat messages. */
export type ItemMapper = (item: ResponseItem) => ChatMessage[];

/** Response.instructions: a string, or the list a stored prompt renders into. */
export type Instructions = string | readonly InstructionMessage[] | null;

const TEXT_MIME = /^data:(text\/[\w.+-]+|application\/(json|xml|x-yaml|yaml|csv))[^,]*;base64,/i;

/**
 * Turns the assembled context (instructions, then items oldest first) into chat messages.
 * `developer` becomes `system`: most open model servers' chat templates know no developer role.
 * The leading system texts (instructions, a rendered prompt, system/developer input before the first
 * other message) become one system message, joined by "\n": many chat templates take a single
 * system message, first. A system/developer message later in the conversation stays a `system`
 * message where it is: moving it would change what it applies to, and dropping it would lose it.
 * Consecutive function calls (and the assistant text just before them) become one assistant
 * message with `tool_calls`, the shape every chat template expects for parallel calls.
 */
export function itemsToChatMessages(instructions: Instructions, items: readonly ResponseItem[], mappers: ReadonlyMap<string, ItemMapper> = new Map()): ChatMessage[] {
  const out: ChatMessage[] = instructionMessages(instructions);
  const calls = new Set<string>();
  let lastType: string | undefined;
  for (const item of items) {
    const type = CALL_TYPES.has(item.type) ? 'function_call' : item.type;
    switch (type) {
      case 'message':
        out.push(messageToChat(item));
        break;
      case 'function_call': {
        const call = toolCall(item);
        calls.add(call.id);
        const prev = out.at(-1);
        if (prev && prev.role === 'assistant' && (lastType === 'function_call' || (lastType === 'message' && !prev.tool_calls))) {
          prev.tool_calls = [...(prev.tool_calls ?? []), call];
        } else {
          out.push({ role: 'assistant', content: null, tool_calls: [call] });
        }
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output':
        // A chat template cannot place a tool result without its call (function outputs are checked
        // to answer one; a custom tool's output whose call is not in the context is left out).
        if (type === 'function_call_output' || calls.has(str(item.call_id))) out.push({ role: 'tool', tool_call_id: str(item.call_id), content: toolOutputText(item.output) });
        break;
      case 'reasoning':
        // Reasoning is the model's own scratch work: chat templates drop it from earlier turns too.
        break;
      default: {
        // Items of hosted tools (file_search_call, web_search_call, computer_call, mcp_call, ...) are
        // replayed only by a tool that runs here and registered a mapper: a chat model has no such
        // tool, so its calls and results would be orphan messages its chat template refuses. They
        // stay stored and in the conversation, as sent.
        const mapper = mappers.get(item.type);
        if (mapper) out.push(...mapper(item));
      }
    }
    lastType = type === 'reasoning' ? lastType : type;
  }
  return joinLeadingSystem(out);
}

/** Calls the model made to a client-side tool, replayed as chat tool calls: functions, and custom tools (their `input` as the arguments). */
const CALL_TYPES: ReadonlySet<string> = new Set(['function_call', 'custom_tool_call']);

function toolCall(item: ResponseItem): ChatToolCall {
  const args = item.type === 'custom_tool_call' ? item.input : item.arguments;
  return { id: str(item.call_id), type: 'function', function: { name: str(item.name), arguments: str(args) } };
}

function joinLeadingSystem(messages: ChatMessage[]): ChatMessage[] {
  let n = 0;
  while (messages[n]?.role === 'system' && typeof messages[n]!.content === 'string') n++;
  if (n < 2) return messages;
  return [{ role: 'system', content: messages.slice(0, n).map((m) => m.content).join('\n') }, ...messages.slice(n)];
}

/** The leading messages: the instructions string, or the list a stored prompt rendered into. */
function instructionMessages(instructions: Instructions): ChatMessage[] {
  if (!instructions) return [];
  if (typeof instructions === 'string') return [{ role: 'system', content: instructions }];
  return instructions.map((m) => messageToChat(m as unknown as ResponseItem));
}

function messageToChat(item: ResponseItem): ChatMessage {
  const role = item.role as string;
  const parts = (Array.isArray(item.content) ? item.content : []) as Record<string, unknown>[];
  if (role === 'assistant') {
    const text = parts.map((p) => (p.type === 'output_text' || p.type === 'input_text' ? str(p.text) : p.type === 'refusal' ? str(p.refusal) : '')).join('');
    return { role: 'assistant', content: text };
  }
  const chatRole = role === 'user' ? 'user' : 'system';
  const chatParts = parts.map(partToChat);
  // A plain string where possible: some servers and templates only take string content (e.g. for system).
  if (chatParts.every((p) => p.type === 'text')) return { role: chatRole, content: chatParts.map((p) => (p as { text: string }).text).join('') };
  return { role: chatRole, content: chatParts };
}

function partToChat(part: Record<string, unknown>): ChatContentPart {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: str(part.text) };
    case 'refusal':
      return { type: 'text', text: str(part.refusal) };
    case 'input_image': {
      // By file_id: input-files/input-file-resolver.ts puts the image's data URL in before the model is asked.
      if (!part.image_url && part.file_id) return { type: 'text', text: `[image: ${str(part.file_id)}]` };
      if (!part.image_url) throw new InvalidRequestError('An input_image needs an image_url or a file_id.', 'input', 'invalid_value');
      const image_url: { url: string; detail?: string } = { url: str(part.image_url) };
      if (typeof part.detail === 'string' && part.detail !== 'auto') image_url.detail = part.detail;
      return { type: 'image_url', image_url };
    }
    case 'input_file':
      return fileToChat(part);
    default:
      return { type: 'text', text: '' };
  }
}

/** Text-like file data is inlined as text (every model can read it); anything else goes as a chat `file` part. */
function fileToChat(part: Record<string, unknown>): ChatContentPart {
  const name = typeof part.filename === 'string' ? part.filename : undefined;
  const data = typeof part.file_data === 'string' ? part.file_data : undefined;
  if (data && TEXT_MIME.test(data)) {
    const decoded = Buffer.from(data.slice(data.indexOf(',') + 1), 'base64').toString('utf8');
    return { type: 'text', text: name ? `[file: ${name}]\n${decoded}` : decoded };
  }
  const file: Record<string, string> = {};
  if (typeof part.file_id === 'string') file.file_id = part.file_id;
  if (data) file.file_data = data;
  if (typeof part.file_url === 'string') file.file_url = part.file_url;
  if (name) file.filename = name;
  return { type: 'file', file };
}

function toolOutputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) return '';
  return output.map((p: Record<string, unknown>) => (p.type === 'input_text' ? str(p.text) : p.type === 'input_image' ? `[image: ${str(p.image_url)}]` : '')).join('');
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}
