// The official ollama client, used as any application would; only the host points at Bunshin.
// Run: BUNSHIN_URL=http://127.0.0.1:8080 node ollama-client.mjs   (exit 0 = every check passed)
import { Ollama } from 'ollama';
import { ChatOllama } from '@langchain/ollama';
import { z } from 'zod';

const host = process.env.BUNSHIN_URL ?? 'http://127.0.0.1:8080';
const key = process.env.BUNSHIN_API_KEY;
const ollama = new Ollama({ host, headers: key ? { Authorization: 'Bearer ' + key } : {} });
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok - ' : 'FAIL - ') + what);
  if (!ok) failures++;
}

const list = await ollama.list();
check(list.models.length >= 1 && list.models[0].details.format === 'gguf', `list: ${list.models.map(m => m.name)}`);
const model = list.models[0].name;
const show = await ollama.show({ model });
check(typeof show.model_info === 'object' && show.details.family.length > 0, `show: family ${show.details.family}`);

const options = { num_predict: 8, temperature: 0 };
const g = await ollama.generate({ model, prompt: 'Once upon a time', stream: false, options });
check(g.done === true && g.response.length > 0 && g.eval_count > 0 && g.eval_count <= 8,
  `generate: ${JSON.stringify(g.response)} (${g.eval_count} tokens, ${g.done_reason})`);
let streamed = '';
let last = null;
for await (const part of await ollama.generate({ model, prompt: 'Once upon a time', stream: true, options })) {
  streamed += part.response;
  last = part;
}
check(streamed === g.response && last.done === true, `streamed generate equals the blocking one: ${JSON.stringify(streamed)}`);

const messages = [{ role: 'user', content: 'Tell me a story.' }];
const chat = await ollama.chat({ model, messages, stream: false, options });
check(chat.message.role === 'assistant' && chat.message.content.length > 0, `chat: ${JSON.stringify(chat.message.content)}`);
let chatStreamed = '';
for await (const part of await ollama.chat({ model, messages, stream: true, options })) {
  chatStreamed += part.message.content;
}
check(chatStreamed === chat.message.content, `streamed chat equals the blocking one: ${JSON.stringify(chatStreamed)}`);

// Structured outputs: format "json" and format as a JSON schema (generate and chat, blocking and streamed), then
// LangChain's ChatOllama.withStructuredOutput with a Zod schema.
const long = { num_predict: 600, temperature: 0 };
const fj = await ollama.generate({ model, prompt: 'A dog, as JSON:', format: 'json', stream: false, options: long });
let fjValue = null;
try { fjValue = JSON.parse(fj.response); } catch (e) { /* checked below */ }
check(fj.done_reason === 'length' || (fjValue !== null && typeof fjValue === 'object'),
  `generate format json: ${JSON.stringify(fj.response)} (${fj.done_reason})`);
const dog = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, good: { type: 'boolean' },
  size: { enum: ['small', 'big'] } }, required: ['name', 'age', 'good', 'size'], additionalProperties: false };
const validDog = d => d && typeof d.name === 'string' && Number.isInteger(d.age) && typeof d.good === 'boolean'
  && ['small', 'big'].includes(d.size) && Object.keys(d).length === 4;
const fs = await ollama.chat({ model, messages: [{ role: 'user', content: 'Describe a dog.' }], format: dog, stream: false, options: long });
check(fs.done_reason === 'stop' && validDog(JSON.parse(fs.message.content)), `chat format schema: ${fs.message.content}`);
let fsStreamed = '';
for await (const part of await ollama.chat({ model, messages: [{ role: 'user', content: 'Describe a dog.' }], format: dog,
  stream: true, options: long })) {
  fsStreamed += part.message.content;
}
check(fsStreamed === fs.message.content, `streamed chat with a schema equals the blocking one: ${fsStreamed}`);
try {
  await ollama.generate({ model, prompt: 'x', stream: false, format: { type: 'object', properties: { d: { type: 'string', format: 'date' } } } });
  check(false, 'a schema keyword the constraint cannot honour is refused');
} catch (e) {
  check(e.status_code === 400 && /format\.properties\.d\.format/.test(e.error ?? e.message), `unsupported keyword -> ${e.status_code}: ${e.error ?? e.message}`);
}
const lc = new ChatOllama({ model, baseUrl: host, temperature: 0, numPredict: 600,
  headers: key ? { Authorization: 'Bearer ' + key } : undefined });
const Pet = z.object({ name: z.string(), kind: z.enum(['dog', 'cat', 'bird']), age: z.number().int() });
const lcPet = await lc.withStructuredOutput(Pet, { method: 'jsonSchema' }).invoke('Describe a pet.');
check(Pet.safeParse(lcPet).success, `LangChain ChatOllama.withStructuredOutput: ${JSON.stringify(lcPet)}`);

try {
  await ollama.generate({ model: 'no-such-model', prompt: 'x', stream: false });
  check(false, 'unknown model is refused');
} catch (e) {
  check(e.status_code === 404 && /no-such-model/.test(e.error ?? e.message), `unknown model -> ${e.status_code}: ${e.error ?? e.message}`);
}

await embeddings(model);

// Embeddings: /api/embed (normalised, one vector per input) and the legacy /api/embeddings (the raw vector).
async function embeddings(model) {
  const near = (a, b, tol) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);
  const one = await ollama.embed({ model, input: 'Once upon a time' });
  const v = one.embeddings[0];
  const norm = Math.hypot(...v);
  check(one.embeddings.length === 1 && v.length > 0 && Math.abs(norm - 1) < 1e-3 && one.prompt_eval_count > 0,
    `embed (string): ${v.length} dims, norm ${norm}`);
  const many = await ollama.embed({ model, input: ['Once upon a time', 'Tim'] });
  check(many.embeddings.length === 2 && near(many.embeddings[0], v, 1e-4) && !near(many.embeddings[1], v, 1e-4),
    'embed (array): in order, the first equals the single');
  const legacy = await ollama.embeddings({ model, prompt: 'Once upon a time' });
  const rawNorm = Math.hypot(...legacy.embedding);
  check(near(legacy.embedding.map(x => x / rawNorm), v, 1e-4), `embeddings (legacy): the raw vector, norm ${rawNorm}`);
}

console.log(`${failures === 0 ? 'PASS' : 'FAIL'} ollama ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
