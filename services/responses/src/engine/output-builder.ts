import type {
  ItemStatus,
  Logprob,
  OutputItem,
  OutputMessageItem,
  OutputTextPart,
  ReasoningItem,
  RefusalPart,
  ResponseObject,
  UnsequencedEvent,
} from '../wire/response-types.js';

/**
 * Owns `response.output` while a response is generated: every change to an output item goes through
 * here and comes back as the stream event that describes it, so the events and the final Response
 * can never disagree. Events carry copies; the live items keep changing. `copy` makes them: a caller
 * that only collects the final Response and never reads an event's items passes `sameObject`.
 */
export class OutputBuilder {
  constructor(
    readonly response: ResponseObject,
    private readonly copy: <T>(value: T) => T = structuredClone,
  ) {}

  get output(): OutputItem[] {
    return this.response.output;
  }

  addItem(item: OutputItem): { index: number; event: UnsequencedEvent } {
    const index = this.output.push(item) - 1;
    return { index, event: { type: 'response.output_item.added', output_index: index, item: this.copy(item) } };
  }

  doneItem(index: number, status: ItemStatus | 'failed' = 'completed'): UnsequencedEvent {
    const item = this.item(index);
    (item as { status?: string }).status = status;
    return { type: 'response.output_item.done', output_index: index, item: this.copy(item) };
  }

  addPart(index: number, part: OutputTextPart | RefusalPart | { type: 'reasoning_text'; text: string }): { contentIndex: number; event: UnsequencedEvent } {
    const item = this.item(index) as OutputMessageItem | ReasoningItem;
    const content = (item.content ??= []) as unknown[];
    const contentIndex = content.push(part) - 1;
    return { contentIndex, event: { type: 'response.content_part.added', item_id: item.id, output_index: index, content_index: contentIndex, part: this.copy(part) } };
  }

  doneParts(index: number, contentIndex: number): UnsequencedEvent[] {
    const item = this.item(index) as OutputMessageItem | ReasoningItem;
    const part = item.content![contentIndex]!;
    const base = { item_id: item.id, output_index: index, content_index: contentIndex };
    const done: UnsequencedEvent =
      part.type === 'output_text'
        ? { type: 'response.output_text.done', ...base, text: part.text, logprobs: this.copy(part.logprobs) }
        : part.type === 'refusal'
          ? { type: 'response.refusal.done', ...base, refusal: part.refusal }
          : { type: 'response.reasoning_text.done', ...base, text: part.text };
    return [done, { type: 'response.content_part.done', ...base, part: this.copy(part) }];
  }

  appendText(index: number, contentIndex: number, delta: string, logprobs: Logprob[] | undefined): UnsequencedEvent {
    const item = this.item(index) as OutputMessageItem | ReasoningItem;
    const part = item.content![contentIndex]!;
    const base = { item_id: item.id, output_index: index, content_index: contentIndex, delta };
    if (part.type === 'refusal') {
      part.refusal += delta;
      return { type: 'response.refusal.delta', ...base };
    }
    part.text += delta;
    if (part.type === 'reasoning_text') return { type: 'response.reasoning_text.delta', ...base };
    if (logprobs) part.logprobs.push(...logprobs);
    return { type: 'response.output_text.delta', ...base, logprobs: logprobs ? this.copy(logprobs) : [] };
  }

  /** Adds an annotation (e.g. a file_citation) to an output_text part. */
  addAnnotation(index: number, contentIndex: number, annotation: Record<string, unknown>): UnsequencedEvent {
    const item = this.item(index) as OutputMessageItem;
    const part = item.content[contentIndex] as OutputTextPart;
    const annotationIndex = part.annotations.push(annotation) - 1;
    return { type: 'response.output_text.annotation.added', item_id: item.id, output_index: index, content_index: contentIndex, annotation_index: annotationIndex, annotation: this.copy(annotation) };
  }

  appendArguments(index: number, delta: string): UnsequencedEvent {
    const item = this.item(index) as { id: string; arguments: string };
    item.arguments += delta;
    return { type: 'response.function_call_arguments.delta', item_id: item.id, output_index: index, delta };
  }

  doneArguments(index: number): UnsequencedEvent {
    const item = this.item(index) as { id: string; arguments: string; name: string };
    return { type: 'response.function_call_arguments.done', item_id: item.id, output_index: index, name: item.name, arguments: item.arguments };
  }

  private item(index: number): OutputItem {
    const item = this.output[index];
    if (!item) throw new Error(`no output item at index ${index}`);
    return item;
  }
}

/** The copy of an event nobody reads (see OutputBuilder): the live object itself. */
export const sameObject = <T>(value: T): T => value;
