/**
 * The spec's IncludeEnum: the `include[]` values the Responses and Conversations APIs accept, each
 * naming a heavy or sensitive item field that is only sent when asked for.
 */
export const INCLUDE_VALUES = [
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
] as const;

export type IncludeValue = (typeof INCLUDE_VALUES)[number];
