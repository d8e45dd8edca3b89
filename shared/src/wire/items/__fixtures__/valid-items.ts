/**
 * One valid input item of every type the item model accepts (ids not in OpenAI's prefixes on
 * purpose: any URL-safe id is kept). Shared by the unit tests and the items round-trip test.
 */
export const VALID_ITEMS: Readonly<Record<string, Record<string, unknown>>> = {
  message: { type: 'message', id: 'client-msg-1', role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' }] },
  function_call: { type: 'function_call', id: 'client-fc-1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
  function_call_output: { type: 'function_call_output', id: 'client-fco-1', call_id: 'call_1', output: '{"temp":20}' },
  reasoning: { type: 'reasoning', id: 'client-rs-1', summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: 'opaque' },
  file_search_call: { type: 'file_search_call', id: 'client-fs-1', status: 'completed', queries: ['q'], results: [{ file_id: 'file-1', filename: 'a.txt', score: 0.5, text: 'a' }] },
  web_search_call: {
    type: 'web_search_call',
    id: 'client-ws-1',
    status: 'completed',
    action: { type: 'search', query: 'weather', sources: [{ type: 'url', url: 'https://example.com/' }] },
  },
  computer_call: { type: 'computer_call', id: 'client-cu-1', call_id: 'call_cu', action: { type: 'click', button: 'left', x: 1, y: 2 }, pending_safety_checks: [], status: 'completed' },
  computer_call_output: { type: 'computer_call_output', id: 'client-cuo-1', call_id: 'call_cu', output: { type: 'computer_screenshot', image_url: 'data:image/png;base64,iVBORw0KGgo=' } },
  image_generation_call: { type: 'image_generation_call', id: 'client-ig-1', status: 'completed', result: 'iVBORw0KGgo=' },
  code_interpreter_call: {
    type: 'code_interpreter_call',
    id: 'client-ci-1',
    status: 'completed',
    container_id: 'cntr_1',
    code: 'print(1)',
    outputs: [{ type: 'logs', logs: '1' }],
  },
  local_shell_call: { type: 'local_shell_call', id: 'client-lsh-1', call_id: 'call_ls', action: { type: 'exec', command: ['ls'], env: {} }, status: 'completed' },
  local_shell_call_output: { type: 'local_shell_call_output', id: 'client-lsho-1', output: 'a.txt' },
  shell_call: { type: 'shell_call', id: 'client-sh-1', call_id: 'call_sh', action: { commands: ['ls'] } },
  shell_call_output: { type: 'shell_call_output', id: 'client-sho-1', call_id: 'call_sh', output: [{ stdout: 'a.txt', stderr: '', outcome: { type: 'exit', exit_code: 0 } }] },
  apply_patch_call: { type: 'apply_patch_call', id: 'client-apc-1', call_id: 'call_ap', status: 'completed', operation: { type: 'delete_file', path: 'a.txt' } },
  apply_patch_call_output: { type: 'apply_patch_call_output', id: 'client-apco-1', call_id: 'call_ap', status: 'completed', output: 'done' },
  mcp_list_tools: { type: 'mcp_list_tools', id: 'client-mcpl-1', server_label: 'srv', tools: [{ name: 't', input_schema: {} }] },
  mcp_approval_request: { type: 'mcp_approval_request', id: 'client-mcpr-1', server_label: 'srv', name: 't', arguments: '{}' },
  mcp_approval_response: { type: 'mcp_approval_response', id: 'client-mcpa-1', approval_request_id: 'client-mcpr-1', approve: true },
  mcp_call: { type: 'mcp_call', id: 'client-mcp-1', server_label: 'srv', name: 't', arguments: '{}', output: 'ok', status: 'completed' },
  custom_tool_call: { type: 'custom_tool_call', id: 'client-ctc-1', call_id: 'call_ct', name: 'grammar', input: 'x' },
  custom_tool_call_output: { type: 'custom_tool_call_output', id: 'client-ctco-1', call_id: 'call_ct', output: 'ok' },
};
