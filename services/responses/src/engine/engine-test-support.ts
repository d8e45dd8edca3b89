import { newId } from '@rgw/shared';
import type { ServerTool } from '../tools/tool-registry.js';

/** A test-only server tool: "echo_tool" returns its argument upper-cased and adds an `echo_call` item. */
export const echoTool: ServerTool = {
  type: 'echo_tool',
  offer: () => ({ name: 'echo_tool', description: 'Echoes', parameters: { type: 'object', properties: { text: { type: 'string' } } } }),
  async *execute(ctx) {
    const text = String((JSON.parse(ctx.arguments) as { text: string }).text).toUpperCase();
    const added = ctx.output.addItem({ id: newId('functionCall'), type: 'echo_call', status: 'in_progress', call_id: ctx.callId, result: null });
    yield added.event;
    (ctx.output.output[added.index] as Record<string, unknown>).result = text;
    yield ctx.output.doneItem(added.index, 'completed');
    return { content: text };
  },
};
