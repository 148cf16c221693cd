// LangChain's ChatOpenAI and ChatOllama with bindTools, used as any application would; only the base URL points at
// Bunshin. Needs a served model whose chat template has a tool section (see ToolCallsApiTest).
// Run: BUNSHIN_URL=http://127.0.0.1:8080 node langchain-client.mjs   (exit 0 = every check passed)
import { ChatOpenAI } from '@langchain/openai';
import { ChatOllama } from '@langchain/ollama';

const base = process.env.BUNSHIN_URL ?? 'http://127.0.0.1:8080';
const key = process.env.BUNSHIN_API_KEY;
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok - ' : 'FAIL - ') + what);
  if (!ok) failures++;
}

const model = (await (await fetch(base + '/v1/models', { headers: key ? { Authorization: 'Bearer ' + key } : {} })).json()).data[0].id;
const weather = { type: 'function', function: { name: 'get_weather', description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const isCall = (calls) => calls?.length === 1 && calls[0].name === 'get_weather' && calls[0].args.city === 'Paris';

const openai = new ChatOpenAI({ model, apiKey: key || 'not-needed', maxTokens: 64, maxRetries: 0,
  configuration: { baseURL: base + '/v1' } }).bindTools([weather]);
const ai = await openai.invoke('Weather in Paris?');
check(isCall(ai.tool_calls), `ChatOpenAI.bindTools invoke: ${JSON.stringify(ai.tool_calls)}`);
let acc;
for await (const chunk of await openai.stream('Weather in Paris?')) acc = acc ? acc.concat(chunk) : chunk;
check(isCall(acc?.tool_calls) && !String(acc.content).includes('tool_call'), `ChatOpenAI.bindTools stream: ${JSON.stringify(acc?.tool_calls)}`);

const ollama = new ChatOllama({ model, baseUrl: base, numPredict: 64,
  headers: key ? { Authorization: 'Bearer ' + key } : undefined }).bindTools([weather]);
const oai = await ollama.invoke('Weather in Paris?');
check(isCall(oai.tool_calls), `ChatOllama.bindTools invoke: ${JSON.stringify(oai.tool_calls)}`);

console.log(failures === 0 ? 'PASS langchain 0 failed' : `FAIL langchain ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
