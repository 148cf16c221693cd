package dev.bunshin.engine.sample.grammar;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trie mask against the naive one on many states, over synthetic and real vocabularies; random walks. */
class TokenConstraintTest {

    static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
             "score":{"type":"number"},"mood":{"enum":["happy","sad"]},"ok":{"type":"boolean"},
             "tags":{"type":"array","items":{"type":"string"},"maxItems":3},
             "pet":{"anyOf":[{"type":"null"},{"type":"object","properties":{"kind":{"type":"string"}},
                    "required":["kind"],"additionalProperties":false}]}},
             "required":["name","age","mood"],"additionalProperties":false}""";

    static final String[] DOCUMENTS = {
            "{\"name\":\"Ann \\u00e9\\\"x\\\\\",\"age\":-12,\"score\":-0.5e+3,\"mood\":\"happy\",\"ok\":true,"
                    + "\"tags\":[\"日本\",\"🎉\"],\"pet\":{\"kind\":\"cat\"}}",
            " {\n  \"name\": \"café\",\n  \"age\": 0,\n  \"mood\": \"sad\",\n  \"pet\": null\n}",
    };

    /** A synthetic vocabulary: every single byte, JSON fragments, and random strings cut at random byte offsets. */
    static TokenTrie synthetic(long seed, int n) {
        List<byte[]> tokens = new ArrayList<>();
        tokens.add(new byte[0]); // 0: end of generation
        tokens.add(new byte[0]); // 1: a control token
        for (int b = 0; b < 256; b++) tokens.add(new byte[]{(byte) b});
        for (String s : new String[]{"{\"", "\":", "\",", "\"}", "true", "false", "null", " {", "}\n", "\n  ", "  ",
                "name", "\"name\":", "\"age\": ", "12", "-0", ".5", "e+", "[\"", "\"]", "],", "\\u00", "\\\"", "}}", "]}",
                "caf", "é", "日本", "🎉", "\"happy\"", "sad\"", "{}", "[]", " \"", "\n", "\n\n", "    "}) {
            tokens.add(s.getBytes(StandardCharsets.UTF_8));
        }
        SplittableRandom r = new SplittableRandom(seed);
        String alphabet = "{}[]\":, \n\tabcnrtuel0123456789-+.eE\\/é日🎉";
        while (tokens.size() < n) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + r.nextInt(6);
            for (int k = 0; k < len; k++) sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            int from = r.nextInt(3) == 0 ? r.nextInt(b.length) : 0; // sometimes start inside a character
            int to = r.nextInt(3) == 0 ? from + 1 + r.nextInt(b.length - from) : b.length;
            tokens.add(Arrays.copyOfRange(b, from, to));
        }
        boolean[] eog = new boolean[tokens.size()];
        eog[0] = true;
        return TokenTrie.of(tokens.toArray(byte[][]::new), eog);
    }

    private static TokenConstraint constraint(TokenTrie trie, String format) {
        return new TokenConstraints(trie).forJob(format, new int[0]);
    }

    private static String schemaFormat() {
        return ResponseFormat.jsonSchema(Json.parse(SCHEMA)).toJson();
    }

    /** At every byte boundary of the documents: trie mask == naive mask, and allows(t) == mask[t]. */
    private static int compareAlongDocuments(TokenTrie trie, String format, String... documents) {
        int states = 0;
        for (String doc : documents) {
            TokenConstraint c = constraint(trie, format);
            byte[] bytes = doc.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i <= bytes.length; i++) {
                boolean[] fast = c.mask();
                assertArrayEquals(c.naiveMask(), fast, "mask after " + i + " bytes of " + doc);
                for (int t = 0; t < fast.length; t += 7) assertEquals(fast[t], c.allows(t), "token " + t);
                states++;
                if (i < bytes.length) c.acceptBytes(new byte[]{bytes[i]});
            }
            assertTrue(c.complete() || c.accepts(), doc);
        }
        return states;
    }

    @Test
    void trieMaskEqualsNaiveMaskOnSyntheticVocabulary() {
        TokenTrie trie = synthetic(7, 3000);
        int states = compareAlongDocuments(trie, schemaFormat(), DOCUMENTS);
        states += compareAlongDocuments(trie, ResponseFormat.jsonObject().toJson(), DOCUMENTS);
        states += compareAlongDocuments(trie, ResponseFormat.jsonObject().framed("<tool_call>\n", "\n</tool_call>").toJson(),
                "<tool_call>\n{\"a\": [1, {\"b\": \"ü\"}]}\n</tool_call>");
        assertTrue(states > 400, "states compared: " + states);
    }

    @Test
    void randomWalksOnlyEverProduceValidDocuments() {
        TokenTrie trie = synthetic(11, 2000);
        String format = schemaFormat();
        Object schema = Json.parse(SCHEMA);
        int completed = 0;
        for (long seed = 0; seed < 40; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            TokenConstraint c = constraint(trie, format);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int step = 0; step < 400 && !c.complete(); step++) {
                boolean[] mask = c.mask();
                if (step % 10 == 0) assertArrayEquals(c.naiveMask(), mask, "walk " + seed + " step " + step);
                List<Integer> allowed = new ArrayList<>();
                for (int t = 0; t < mask.length; t++) if (mask[t]) allowed.add(t);
                assertFalse(allowed.isEmpty(), "a live state always allows a token: " + out);
                // prefer longer tokens, which close strings and structures sooner than single bytes
                int t = allowed.get(r.nextInt(allowed.size()));
                if (trie.bytes[t].length < 3) t = allowed.get(r.nextInt(allowed.size()));
                assertTrue(c.allows(t));
                c.accept(t);
                if (c.isEnd(t)) break;
                out.writeBytes(trie.bytes[t]);
            }
            if (c.accepts()) {
                completed++;
                String doc = out.toString(StandardCharsets.UTF_8);
                assertNull(SchemaCheck.violation(schema, doc), doc);
            }
        }
        assertTrue(completed >= 5, "walks that completed a document: " + completed);
    }

    @Test
    void endTokensOnlyWhenWholeAndControlTokensNever() {
        TokenTrie trie = synthetic(3, 400);
        TokenConstraint c = new TokenConstraints(trie).forJob(ResponseFormat.jsonObject().toJson(), new int[]{300});
        assertFalse(c.allows(0), "end of generation before the document");
        assertFalse(c.allows(1), "a token of no bytes never");
        assertFalse(c.allows(300), "an extra end token before the document");
        assertThrows(IllegalArgumentException.class, () -> c.accept('x' + 2));
        c.acceptBytes("{\"a\":1".getBytes(StandardCharsets.UTF_8));
        assertFalse(c.accepts());
        c.acceptBytes("}".getBytes(StandardCharsets.UTF_8));
        assertTrue(c.complete());
        assertTrue(c.allows(0) && c.allows(300) && !c.allows(1) && !c.allows('}' + 2));
    }

    @Test
    void realVocabulariesMaskLikeTheNaiveReference() throws Exception {
        for (String name : new String[]{"stories260K.gguf", "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf"}) {
            Tokenizer tok;
            try (GgufFile f = GgufFile.open(TestModels.require(name))) {
                tok = Tokenizer.fromGguf(f);
            }
            TokenTrie trie = TokenTrie.of(tok);
            compareAlongDocuments(trie, schemaFormat(), DOCUMENTS[1]);
            compareAlongDocuments(trie, ResponseFormat.jsonObject().toJson(), DOCUMENTS[0]);
        }
    }
}
