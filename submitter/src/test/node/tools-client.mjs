// Tool calls through the official openai and ollama clients, used as any application would; only the base URL
// points at Bunshin. Needs a served model whose chat template has a tool section (see ToolCallsApiTest).
// Run: BUNSHIN_URL=http://127.0.0.1:8080 node tools-client.mjs   (exit 0 = every check passed)
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const base = process.env.BUNSHIN_URL ?? 'http://127.0.0.1:8080';
const key = process.env.BUNSHIN_API_KEY;
const openai = new OpenAI({ baseURL: base + '/v1', apiKey: key || 'not-needed', maxRetries: 0, timeout: 120_000 });
const ollama = new Ollama({ host: base, headers: key ? { Authorization: 'Bearer ' + key } : {} });
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok - ' : 'FAIL - ') + what);
  if (!ok) failures++;
}

const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters } }];
const model = (await openai.models.list()).data[0].id;
const messages = [{ role: 'user', content: 'Weather in Paris?' }];

// OpenAI, blocking: the call comes back as message.tool_calls, arguments a JSON string.
const r = await openai.chat.completions.create({ model, messages, tools, max_tokens: 64 });
const call = r.choices[0].message.tool_calls?.[0];
check(r.choices[0].finish_reason === 'tool_calls' && r.choices[0].message.content === null
  && call?.type === 'function' && call.function.name === 'get_weather' && JSON.parse(call.function.arguments).city === 'Paris',
  `chat.completions.create tool_calls: ${JSON.stringify(r.choices[0].message)}`);

// OpenAI, streamed: deltas by index; no <tool_call> markup as content.
let streamedContent = '';
const streamed = [];
let finish = null;
for await (const chunk of await openai.chat.completions.create({ model, messages, tools, max_tokens: 64, stream: true })) {
  const d = chunk.choices[0]?.delta ?? {};
  streamedContent += d.content ?? '';
  for (const t of d.tool_calls ?? []) {
    streamed[t.index] ??= { id: t.id, name: '', arguments: '' };
    streamed[t.index].name += t.function?.name ?? '';
    streamed[t.index].arguments += t.function?.arguments ?? '';
  }
  finish = chunk.choices[0]?.finish_reason ?? finish;
}
check(streamed.length === 1 && streamed[0].name === 'get_weather' && JSON.parse(streamed[0].arguments).city === 'Paris'
  && streamedContent === '' && finish === 'tool_calls',
  `streamed tool_calls: ${JSON.stringify(streamed)}, content ${JSON.stringify(streamedContent)}, finish ${finish}`);

// The result goes back as a tool message; the model answers in text.
const back = await openai.chat.completions.create({ model, tools, max_tokens: 64, messages: [...messages,
  r.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '22 degrees, sunny' }] });
check(back.choices[0].finish_reason === 'stop' && back.choices[0].message.content.includes('sunny'),
  `answer after the tool result: ${JSON.stringify(back.choices[0].message.content)}`);

// The client's own tool loop: runTools calls our function and sends its result back.
let called = null;
const runner = openai.chat.completions.runTools({ model, messages, max_tokens: 64, tools: [{ type: 'function',
  function: { name: 'get_weather', parameters, parse: JSON.parse,
    function: (args) => { called = args; return '22 degrees, sunny'; } } }] });
const final = await runner.finalContent();
check(called?.city === 'Paris' && final.includes('sunny'), `runTools: called with ${JSON.stringify(called)}, final ${JSON.stringify(final)}`);

// Ollama: message.tool_calls, arguments an object; streamed too; the result goes back as a tool message.
const o = await ollama.chat({ model, messages, tools, stream: false, options: { num_predict: 64 } });
const oc = o.message.tool_calls?.[0];
check(oc?.function.name === 'get_weather' && oc.function.arguments.city === 'Paris', `ollama.chat tool_calls: ${JSON.stringify(o.message)}`);
const ostreamed = [];
let ocontent = '';
for await (const part of await ollama.chat({ model, messages, tools, stream: true, options: { num_predict: 64 } })) {
  ocontent += part.message.content;
  ostreamed.push(...(part.message.tool_calls ?? []));
}
check(ostreamed.length === 1 && ostreamed[0].function.arguments.city === 'Paris' && ocontent === '',
  `ollama streamed tool_calls: ${JSON.stringify(ostreamed)}, content ${JSON.stringify(ocontent)}`);
const oback = await ollama.chat({ model, tools, stream: false, messages: [...messages, o.message,
  { role: 'tool', content: '22 degrees, sunny', tool_name: 'get_weather' }] });
check(oback.message.content.includes('sunny') && !oback.message.tool_calls, `ollama answer after the tool result: ${JSON.stringify(oback.message)}`);

console.log(failures === 0 ? 'PASS tools 0 failed' : `FAIL tools ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
