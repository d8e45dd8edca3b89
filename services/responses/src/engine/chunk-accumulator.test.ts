import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../chat/chat-chunk.js';
import { newResponseObject } from '../response/response-object.js';
import type { UnsequencedEvent } from '../wire/response-types.js';
import { ChunkAccumulator, type TurnOptions } from './chunk-accumulator.js';
import { OutputBuilder } from './output-builder.js';

const defaults: TurnOptions = { isServerTool: () => false, parallelToolCalls: true, logprobs: false };

function run(chunks: ChatChunk[], opts: Partial<TurnOptions> = {}) {
  const response = newResponseObject('resp_test', { model: 'm' } as never, 0, 'in_progress');
  const acc = new ChunkAccumulator(new OutputBuilder(response), { ...defaults, ...opts });
  const events: UnsequencedEvent[] = [];
  for (const c of chunks) events.push(...acc.push(c));
  const end = acc.finish();
  events.push(...end.events);
  return { events, result: end.result, output: response.output };
}

const delta = (d: Record<string, unknown>, finish_reason: string | null = null): ChatChunk => ({ choices: [{ index: 0, delta: d, finish_reason }] });

/** Splits text at every possible boundary (including one character per chunk). */
function splits(text: string): string[][] {
  const out: string[][] = [[text], text.split('')];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe('ChunkAccumulator', () => {
  it('builds the same message whatever the chunk boundaries, multi-byte characters included', () => {
    const text = 'héllo wörld 👋';
    for (const pieces of splits(text)) {
      const { events, output } = run([delta({ role: 'assistant', content: '' }), ...pieces.map((c) => delta({ content: c })), delta({}, 'stop')]);
      expect(output).toEqual([{ id: expect.stringMatching(/^msg_/), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }]);
      const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
      expect(deltas).toBe(text);
      expect(events.find((e) => e.type === 'response.output_text.done')).toMatchObject({ text });
    }
  });

  it('assembles tool-call arguments split anywhere, and names that arrive late', () => {
    const args = '{"city":"Zürich","days":3}';
    for (const pieces of splits(args)) {
      const chunks = [
        delta({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { arguments: '' } }] }),
        delta({ tool_calls: [{ index: 0, function: { name: 'weather' } }] }),
        ...pieces.map((a) => delta({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
        delta({}, 'tool_calls'),
      ];
      const { result, events } = run(chunks);
      expect(result.clientCalls).toEqual([{ id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: 'call_1', name: 'weather', arguments: args }]);
      const streamed = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
      expect(streamed).toBe(args);
    }
  });

  it('replays arguments that arrived before the name as the first delta', () => {
    const { events, result } = run([
      delta({ tool_calls: [{ index: 0, id: 'c', function: { arguments: '{"a":' } }] }),
      delta({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '1}' } }] }),
      delta({}, 'tool_calls'),
    ]);
    expect(result.clientCalls[0]!.arguments).toBe('{"a":1}');
    expect(events.map((e) => e.type)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
    ]);
  });

  it('closes each parallel call before the next one opens, event by event', () => {
    const { events, result } = run([
      delta({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{"x":' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      delta({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '{}' } }] }),
      delta({}, 'tool_calls'),
    ]);
    expect(events.map((e) => `${e.type.replace('response.', '')}:${e.output_index}`)).toEqual([
      'output_item.added:0',
      'function_call_arguments.delta:0',
      'function_call_arguments.delta:0',
      'function_call_arguments.done:0',
      'output_item.done:0',
      'output_item.added:1',
      'function_call_arguments.delta:1',
      'function_call_arguments.done:1',
      'output_item.done:1',
    ]);
    expect(events[3]).toMatchObject({ arguments: '{"x":1}', name: 'f' });
    expect(result.clientCalls.map((c) => [c.call_id, c.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
  });

  it('marks a call cut off by the length limit incomplete', () => {
    const { events, output } = run([delta({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{"x":' } }] }), delta({}, 'length')]);
    expect(output).toEqual([expect.objectContaining({ type: 'function_call', status: 'incomplete', arguments: '{"x":' })]);
    expect(events.at(-1)).toMatchObject({ type: 'response.output_item.done', item: { status: 'incomplete' } });
  });

  it('keeps only the first call when parallel calls are off', () => {
    const { result, output } = run(
      [
        delta({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{}' } }] }),
        delta({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '{}' } }] }),
        delta({}, 'tool_calls'),
      ],
      { parallelToolCalls: false },
    );
    expect(result.clientCalls.map((c) => c.call_id)).toEqual(['a']);
    expect(output).toHaveLength(1);
  });

  it('collects server-tool calls silently instead of showing them as function calls', () => {
    const { result, events } = run([delta({ tool_calls: [{ index: 0, id: 's1', function: { name: 'lookup', arguments: '{"q":"x"}' } }] }), delta({}, 'tool_calls')], {
      isServerTool: (n) => n === 'lookup',
    });
    expect(events).toEqual([]);
    expect(result.serverCalls).toEqual([{ callId: 's1', name: 'lookup', arguments: '{"q":"x"}' }]);
  });

  it('closes reasoning before text and text before tool calls, with increasing output indexes', () => {
    const { events, output } = run([
      delta({ reasoning_content: 'think' }),
      delta({ reasoning: ' more' }),
      delta({ content: 'Let me call.' }),
      delta({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }] }),
      delta({}, 'tool_calls'),
    ]);
    expect(output.map((o) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(output[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'think more' }], status: 'completed' });
    const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => e.output_index);
    expect(added).toEqual([0, 1, 2]);
    // Each item is done before the next is added.
    const order = events.filter((e) => e.type.startsWith('response.output_item')).map((e) => `${e.type.split('.').at(-1)}${e.output_index}`);
    expect(order).toEqual(['added0', 'done0', 'added1', 'done1', 'added2', 'done2']);
  });

  it('switches between text and refusal parts in one message', () => {
    const { output, events } = run([delta({ content: 'Well' }), delta({ refusal: 'no' }), delta({}, 'stop')]);
    expect(output[0]).toMatchObject({ content: [{ type: 'output_text', text: 'Well' }, { type: 'refusal', refusal: 'no' }] });
    expect(events.filter((e) => e.type === 'response.content_part.added').map((e) => e.content_index)).toEqual([0, 1]);
  });

  it('marks a message cut by the length limit incomplete and produces an empty message for an empty answer', () => {
    expect(run([delta({ content: 'cut' }), delta({}, 'length')]).output[0]).toMatchObject({ status: 'incomplete' });
    const empty = run([delta({ role: 'assistant', content: '' }), delta({}, 'stop')]);
    expect(empty.output).toEqual([expect.objectContaining({ type: 'message', content: [expect.objectContaining({ text: '' })] })]);
  });

  it('records logprobs on output_text when asked', () => {
    const lp = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hey', logprob: -2 }] }] };
    const { output, events } = run([{ choices: [{ index: 0, delta: { content: 'Hi' }, logprobs: lp }] }, delta({}, 'stop')], { logprobs: true });
    const expected = [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hey', logprob: -2, bytes: [72, 101, 121] }] }];
    expect(output[0]).toMatchObject({ content: [{ logprobs: expected }] });
    expect(events.find((e) => e.type === 'response.output_text.delta')).toMatchObject({ logprobs: expected });
  });

  it('keeps the usage chunk', () => {
    const { result } = run([delta({ content: 'x' }, 'stop'), { choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } }]);
    expect(result.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1 });
    expect(result.finishReason).toBe('stop');
  });
});
