/**
 * THE list of what we do differently from OpenAI's API on purpose, each with its reason. The API
 * description marks the extension fields; the conformance suite (test/integration/conformance*.ts)
 * accepts exactly these differences and fails on any other, and on an entry that no longer matches
 * anything (so the list cannot go stale).
 */

export interface Deviation {
  /** Matched against a spec-comparison check id, or `<operationId> <instance path> <ajv message>` of a real body. */
  match: RegExp;
  reason: string;
}

/**
 * Request body fields that are ours (mostly Llama Stack's), not OpenAI's, by operationId: the
 * description marks each `x-extension` with its reason. Only operations OpenAI also has are listed
 * (an operation of ours alone is marked whole); conformance-score.test.ts checks that each field is
 * absent from OpenAI's schema and that no other field of ours is.
 */
export const EXTENSION_FIELDS: Record<string, Record<string, string>> = {
  createResponse: {
    presence_penalty: "Open Responses' and Llama Stack's sampling field, passed to the model server; OpenAI's Responses API has none.",
    frequency_penalty: "Open Responses' and Llama Stack's sampling field, passed to the model server; OpenAI's Responses API has none.",
  },
  createVectorStore: {
    embedding_model: "Llama Stack's: the embedding model of the store (OpenAI chooses its own).",
    embedding_dimension: "Llama Stack's: the dimension of the store's embeddings, for models that can shorten them.",
    provider_id: "Llama Stack's: the vector store provider to keep the store in.",
  },
  searchVectorStore: {
    search_mode: "Llama Stack's: vector, keyword or hybrid search (OpenAI's search is its own mix).",
  },
};

/** Checks of the comparison of our description with OpenAI's that we fail on purpose. */
export const SPEC_GAPS: Deviation[] = [
  {
    match: /^createChatCompletion: body property '[a-z_]+'$/,
    reason: 'Chat completions are relayed to the model server: the schema names only the fields the gateway reads (model, messages, stream, ...); every other field passes through untouched.',
  },
  { match: /^createEmbedding: body property 'user'$/, reason: 'Relayed to the model server untouched, like every field the gateway does not read.' },
  {
    match: /^createChatCompletion: response property '(metadata|moderation)'$/,
    reason: "Stored chat completions (`store`, `metadata`) and OpenAI's moderation are not offered; the model server's answer is relayed as it is.",
  },
  { match: /^retrieveModel: response property 'shutdown_date'$/, reason: 'Model servers report no shutdown date.' },
  {
    match: /^(createResponse|getResponse|cancelResponse): response property 'output_text'$/,
    reason: "OpenAI's spec marks `output_text` an SDK-only convenience: the SDKs compute it, the API does not send it.",
  },
  {
    match: /^createResponse: body property 'model' optional as in the reference$/,
    reason: 'A response needs `model`: there is no default model (OpenAI may take it from a stored prompt).',
  },
];

/** Differences of our real answers from OpenAI's schemas. */
export const BODY_DEVIATIONS: Deviation[] = [
  {
    match: /^(createFile|retrieveFile|listFiles) \/(data\/\d+\/)?purpose must be equal to one of the allowed values \[.*\]$/,
    reason: "OpenAI's upload request accepts `purpose: \"evals\"` (CreateFileRequest), but its File object's enum leaves it out; a file uploaded for evals reads back as `evals`.",
  },
  {
    match: /^(createFile|retrieveFile|listFiles|completeUpload) \/(data\/\d+\/|file\/)?(expires_at must be integer|status_details must be string)$/,
    reason: "A file that never expires has `expires_at: null`, and the deprecated `status_details` is null, as OpenAI's live API answers; its spec types both non-nullable.",
  },
  {
    match: /^(createResponse|getResponse|cancelResponse) (\/response)?\/(user must be string|prompt_cache_options must be object)$/,
    reason: "Request fields a Response echoes are null when the request left them out, as OpenAI's live API answers; its spec types them non-nullable.",
  },
  {
    match: /^(createResponse|getResponse|cancelResponse) (\/response)?\/usage must be object$/,
    reason: "`usage` is null until a response ends (`response.created`/`in_progress` events, a queued or cancelled response), as OpenAI's live API answers.",
  },
  {
    match: /^createEmbedding \/data\/\d+\/embedding must be array$/,
    reason: 'With `encoding_format: "base64"` (the openai SDK asks for it by default) an embedding is a base64 string, as OpenAI answers; its spec describes only the float array.',
  },
  {
    match: /^createChatCompletion \/choices\/\d+\/message must have required property 'refusal'$/,
    reason: 'Chat completions are relayed from the model server untouched; servers such as vLLM (and the suite\'s mock) leave out `refusal`.',
  },
  {
    match: /^(createVectorStore|getVectorStore|modifyVectorStore|listVectorStores) (\/data\/\d+)?\/expires_after must be object$/,
    reason: 'A store without an expiry policy has `expires_after: null`; OpenAI\'s spec has it optional but not nullable.',
  },
];
