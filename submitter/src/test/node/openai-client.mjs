// The official openai client, used as any application would; only the base URL points at Bunshin.
// Run: BUNSHIN_URL=http://127.0.0.1:8080 node openai-client.mjs   (exit 0 = every check passed)
import OpenAI, { toFile } from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { ChatOpenAI } from '@langchain/openai';

const base = process.env.BUNSHIN_URL ?? 'http://127.0.0.1:8080';
const client = new OpenAI({ baseURL: base + '/v1', apiKey: process.env.BUNSHIN_API_KEY || 'not-needed', maxRetries: 0, timeout: 120_000 });
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok - ' : 'FAIL - ') + what);
  if (!ok) failures++;
}

const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
check(ids.length >= 1, `models.list: ${ids}`);
const model = ids[0];

const c = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
const text = c.choices[0].text;
check(typeof text === 'string' && text.length > 0, `completions.create: ${JSON.stringify(text)}`);
check(c.usage.prompt_tokens > 0 && c.usage.completion_tokens > 0 && c.usage.completion_tokens <= 8,
  `completions usage: ${JSON.stringify(c.usage)}`);
check(['stop', 'length'].includes(c.choices[0].finish_reason), `finish_reason: ${c.choices[0].finish_reason}`);

let streamed = '';
let finish = null;
let usage = null;
const stream = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0,
  stream: true, stream_options: { include_usage: true } });
for await (const chunk of stream) {
  if (chunk.choices.length > 0) {
    streamed += chunk.choices[0].text;
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}
check(streamed === text, `streamed completion equals the blocking one (greedy): ${JSON.stringify(streamed)}`);
check(finish === c.choices[0].finish_reason && usage?.completion_tokens === c.usage.completion_tokens,
  `stream finish_reason ${finish} and usage ${JSON.stringify(usage)}`);

const messages = [{ role: 'system', content: 'You tell short stories.' }, { role: 'user', content: 'Tell me a story.' }];
const chat = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0, seed: 1 });
const reply = chat.choices[0].message;
check(reply.role === 'assistant' && reply.content.length > 0, `chat.completions.create: ${JSON.stringify(reply.content)}`);
let chatStreamed = '';
let role = null;
for await (const chunk of await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0, seed: 1, stream: true })) {
  const d = chunk.choices[0]?.delta ?? {};
  role = d.role ?? role;
  chatStreamed += d.content ?? '';
}
check(role === 'assistant' && chatStreamed === reply.content, `streamed chat equals the blocking one: ${JSON.stringify(chatStreamed)}`);

// Logprobs: greedy, so each token is the first and likeliest of its alternatives; the stream's equal the answer's.
const lp = await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0, seed: 1,
  logprobs: true, top_logprobs: 3 });
const entries = lp.choices[0].logprobs?.content ?? [];
check(entries.length === lp.usage.completion_tokens && entries.every(e => typeof e.token === 'string'
  && e.logprob <= 0 && Array.isArray(e.bytes) && e.top_logprobs.length === 3
  && e.top_logprobs[0].logprob === e.logprob && e.top_logprobs[1].logprob <= e.logprob
  && e.top_logprobs[2].logprob <= e.top_logprobs[1].logprob),
  `chat logprobs: ${JSON.stringify(entries.map(e => [e.token, e.logprob]))}`);
const streamedEntries = [];
for await (const chunk of await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0,
  seed: 1, logprobs: true, top_logprobs: 3, stream: true })) {
  streamedEntries.push(...(chunk.choices[0]?.logprobs?.content ?? []));
}
// (two jobs: the same tokens, the same logprobs but for float noise should the engine batch them differently)
check(streamedEntries.length === entries.length && streamedEntries.every((e, i) => e.token === entries[i].token
  && Math.abs(e.logprob - entries[i].logprob) < 1e-3 && e.top_logprobs.length === entries[i].top_logprobs.length),
  `streamed chat logprobs equal the answer's: ${streamedEntries.length} entries`);
const clp = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 4, temperature: 0, logprobs: 2 });
const cl = clp.choices[0].logprobs;
check(cl && cl.tokens.length === clp.usage.completion_tokens && cl.token_logprobs.length === cl.tokens.length
  && cl.top_logprobs.every(t => Object.keys(t).length >= 1 && Object.keys(t).length <= 2) && cl.text_offset[0] === 0,
  `completion logprobs: ${JSON.stringify(cl)}`);
try {
  await client.chat.completions.create({ model, messages, top_logprobs: 2 });
  check(false, 'top_logprobs without logprobs is refused');
} catch (e) {
  check(e instanceof OpenAI.BadRequestError && e.param === 'top_logprobs', `top_logprobs alone -> ${e.status} param=${e.param}`);
}

// Structured outputs: a Zod schema through the client's own helper (parse), json_object, a stream, a refused
// keyword, and LangChain's withStructuredOutput. The output must parse and satisfy the schema, whoever generates it.
const Story = z.object({
  title: z.string(),
  mood: z.enum(['happy', 'sad']),
  pages: z.number().int(),
  hero: z.object({ name: z.string(), pet: z.string().nullable() }),
  tags: z.array(z.enum(['fun', 'scary', 'sweet'])).max(3),
});
const storyMessages = [{ role: 'user', content: 'Tell me a story as JSON.' }];
const parsed = await client.chat.completions.parse({ model, messages: storyMessages, max_tokens: 600, temperature: 0,
  response_format: zodResponseFormat(Story, 'story') });
const story = parsed.choices[0].message.parsed;
check(parsed.choices[0].finish_reason === 'stop' && Story.safeParse(story).success,
  `chat.completions.parse with zodResponseFormat: ${JSON.stringify(story)}`);
const jo = await client.chat.completions.create({ model, messages: storyMessages, max_tokens: 600, temperature: 0,
  response_format: { type: 'json_object' } });
let joValue = null;
try { joValue = JSON.parse(jo.choices[0].message.content); } catch (e) { /* checked below */ }
check(jo.choices[0].finish_reason === 'length' || (joValue !== null && typeof joValue === 'object' && !Array.isArray(joValue)),
  `json_object: ${JSON.stringify(jo.choices[0].message.content)} (${jo.choices[0].finish_reason})`);
let structuredStream = '';
for await (const chunk of await client.chat.completions.create({ model, messages: storyMessages, max_tokens: 600,
  temperature: 0, stream: true, response_format: zodResponseFormat(Story, 'story') })) {
  structuredStream += chunk.choices[0]?.delta?.content ?? '';
}
check(structuredStream === parsed.choices[0].message.content && Story.safeParse(JSON.parse(structuredStream)).success
  && Object.keys(JSON.parse(structuredStream)).join() === 'title,mood,pages,hero,tags',
  `streamed json_schema equals the blocking one: ${JSON.stringify(structuredStream)}`);
try {
  await client.chat.completions.create({ model, messages: storyMessages, response_format: { type: 'json_schema',
    json_schema: { name: 'x', schema: { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]+$' } } } } } });
  check(false, 'a schema keyword the constraint cannot honour is refused');
} catch (e) {
  check(e instanceof OpenAI.BadRequestError && e.param === 'response_format.json_schema.schema.properties.code.pattern',
    `unsupported keyword -> ${e.status} param=${e.param}`);
}
const lc = new ChatOpenAI({ model, apiKey: process.env.BUNSHIN_API_KEY || 'not-needed', temperature: 0, maxTokens: 600,
  maxRetries: 0, configuration: { baseURL: base + '/v1' } });
const Pet = z.object({ name: z.string(), kind: z.enum(['dog', 'cat', 'bird']), age: z.number().int() });
const lcPet = await lc.withStructuredOutput(Pet, { name: 'pet', method: 'jsonSchema' }).invoke('Describe a pet.');
check(Pet.safeParse(lcPet).success, `LangChain ChatOpenAI.withStructuredOutput: ${JSON.stringify(lcPet)}`);

try {
  await client.completions.create({ model, prompt: 'x', max_tokens: 0 });
  check(false, 'max_tokens 0 is refused');
} catch (e) {
  check(e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'max_tokens',
    `max_tokens 0 -> ${e.status} param=${e.param}: ${e.message}`);
}
try {
  await client.chat.completions.create({ model: 'no-such-model', messages });
  check(false, 'unknown model is refused');
} catch (e) {
  check(e instanceof OpenAI.NotFoundError && e.code === 'model_not_found', `unknown model -> ${e.status} ${e.code}`);
}

// Batch: upload a JSONL file, create a batch, wait, download the output.
const lines = [1, 2, 3].map(i => JSON.stringify({ custom_id: `req-${i}`, method: 'POST', url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content: `Story number ${i}` }], max_tokens: 6, temperature: 0 } }));
const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'batch.jsonl'), purpose: 'batch' });
check(file.id.startsWith('file-') && file.bytes > 0, `files.create: ${file.id}`);
let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
check(batch.id.startsWith('batch_'), `batches.create: ${batch.id} ${batch.status}`);
const deadline = Date.now() + 300_000;
while (!['completed', 'failed', 'cancelled', 'expired'].includes(batch.status) && Date.now() < deadline) {
  await new Promise(r => setTimeout(r, 200));
  batch = await client.batches.retrieve(batch.id);
}
check(batch.status === 'completed' && batch.request_counts.completed === 3,
  `batch ${batch.status}: ${JSON.stringify(batch.request_counts)}`);
const output = await (await client.files.content(batch.output_file_id)).text();
const results = output.trim().split('\n').map(l => JSON.parse(l));
check(results.map(r => r.custom_id).join() === 'req-1,req-2,req-3'
  && results.every(r => r.response.status_code === 200 && r.response.body.choices[0].message.content.length > 0),
  `batch output in input order: ${results.map(r => JSON.stringify(r.response.body.choices[0].message.content)).join(' | ')}`);

// A batch whose lines ask for a JSON schema: every output line's content is a document of that schema.
const petFormat = zodResponseFormat(Pet, 'pet');
const petLines = [1, 2, 3, 4].map(i => JSON.stringify({ custom_id: `pet-${i}`, method: 'POST', url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content: `Pet number ${i}` }], max_tokens: 300, temperature: 0,
    response_format: petFormat } }));
const { batch: petBatch, out: petOut } = await runBatch(petLines, 'pets.jsonl', 300_000);
check(petBatch.status === 'completed' && petOut.length === 4 && petOut.every(r => r.response.status_code === 200
  && Pet.safeParse(JSON.parse(r.response.body.choices[0].message.content)).success),
  `batch with response_format: ${petOut.map(r => r.response.body.choices[0].message.content).join(' | ')}`);

// A classification batch (issue 12's done-when: a 500-line batch, 500 valid documents): BUNSHIN_LABEL_LINES lines
// (4 unless told; UpClientsIT asks 500 of the real pipeline), each a Zod schema of an enum, an integer and a boolean,
// whose documents always complete within the token budget.
const Label = z.object({ sentiment: z.enum(['positive', 'negative', 'neutral']), stars: z.number().int(), spam: z.boolean() });
const labelCount = Number(process.env.BUNSHIN_LABEL_LINES ?? 4);
const labelLines = Array.from({ length: labelCount }, (_, i) => JSON.stringify({ custom_id: `label-${i}`, method: 'POST',
  url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `Review ${i}: the ${['cat', 'dog', 'ball',
    'park'][i % 4]} was ${['happy', 'sad', 'big', 'red', 'lost'][i % 5]}.` }], max_tokens: 128, temperature: 0,
    response_format: zodResponseFormat(Label, 'label') } }));
const { batch: labelBatch, out: labelOut } = await runBatch(labelLines, 'labels.jsonl', 480_000);
const labelValid = labelOut.filter(r => r.response?.status_code === 200 && r.response.body.choices[0].finish_reason === 'stop'
  && Label.safeParse(JSON.parse(r.response.body.choices[0].message.content)).success);
check(labelBatch.status === 'completed' && labelValid.length === labelCount,
  `a ${labelCount}-line batch with a Zod schema: ${labelValid.length} valid documents (${labelBatch.status}); first: ${labelOut[0]?.response?.body?.choices?.[0]?.message?.content}`);

await embeddings(model);

// Uploads the lines as a batch file, runs the batch to its end (or the deadline); the batch and its output lines.
async function runBatch(lines, name, ms) {
  const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), name), purpose: 'batch' });
  let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const deadline = Date.now() + ms;
  while (!['completed', 'failed', 'cancelled', 'expired'].includes(batch.status) && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 300));
    batch = await client.batches.retrieve(batch.id);
  }
  const out = batch.output_file_id
    ? (await (await client.files.content(batch.output_file_id)).text()).trim().split('\n').map(l => JSON.parse(l)) : [];
  return { batch, out };
}

// Embeddings: the client asks for base64 unless told and decodes it itself; float, base64 and the default agree.
async function embeddings(model) {
  const near = (a, b, tol) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);
  const one = await client.embeddings.create({ model, input: 'Once upon a time' });
  const v = one.data[0].embedding;
  const norm = Math.hypot(...v);
  check(one.object === 'list' && one.data.length === 1 && Array.isArray(v) && v.length > 0 && Math.abs(norm - 1) < 1e-3
    && one.usage.prompt_tokens > 0, `embeddings.create (string, base64 decoded by the client): ${v.length} dims, norm ${norm}`);
  const floats = await client.embeddings.create({ model, input: 'Once upon a time', encoding_format: 'float' });
  check(near(floats.data[0].embedding, v, 1e-4), 'encoding_format float equals the client-decoded base64');
  const b64 = await client.embeddings.create({ model, input: 'Once upon a time', encoding_format: 'base64' });
  const bytes = Buffer.from(b64.data[0].embedding, 'base64');
  const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
  check(typeof b64.data[0].embedding === 'string' && near(decoded, floats.data[0].embedding, 1e-4),
    `encoding_format base64 round-trips to the floats (${bytes.length} bytes)`);
  const many = await client.embeddings.create({ model, input: ['Once upon a time', 'Tim'] });
  check(many.data.length === 2 && many.data.map(d => d.index).join() === '0,1' && near(many.data[0].embedding, v, 1e-4)
    && !near(many.data[1].embedding, v, 1e-4), 'embeddings.create (array of strings): in order, the first equals the single');
}

console.log(`${failures === 0 ? 'PASS' : 'FAIL'} openai ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
