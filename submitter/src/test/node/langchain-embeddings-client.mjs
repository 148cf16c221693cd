// LangChain's OpenAIEmbeddings, used as any application would; only the base URL points at Bunshin.
// Run: BUNSHIN_URL=http://127.0.0.1:8080 node langchain-embeddings-client.mjs   (exit 0 = every check passed)
import { OpenAIEmbeddings } from '@langchain/openai';
import { base, key, checks, firstModel } from './client-checks.mjs';

const { check, done } = checks('langchain-embeddings');
const embeddings = new OpenAIEmbeddings({ model: await firstModel(), apiKey: key || 'not-needed', maxRetries: 0,
  configuration: { baseURL: base + '/v1' } });
const near = (a, b, tol) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);
const q = await embeddings.embedQuery('Once upon a time');
check(Array.isArray(q) && q.length > 0 && Math.abs(Math.hypot(...q) - 1) < 1e-3, `embedQuery: ${q.length} dims`);
const docs = await embeddings.embedDocuments(['Once upon a time', 'Tim', 'a big, red ball']);
check(docs.length === 3 && near(docs[0], q, 1e-4) && !near(docs[1], q, 1e-4), `embedDocuments: ${docs.length} vectors, in order`);
done();
