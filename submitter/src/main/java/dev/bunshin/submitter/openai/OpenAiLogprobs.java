package dev.bunshin.submitter.openai;

import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.submitter.jobs.Job;
import dev.bunshin.submitter.jobs.TokenFeed;
import dev.bunshin.submitter.model.ServedModels;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's {@code logprobs} objects from stored tokens: chat's {@code {"content": [...], "refusal": null}} and the
 * legacy completions' {@code {"tokens", "token_logprobs", "top_logprobs", "text_offset"}}.
 *
 * <p>A token's {@code token} text is its own piece decoded by the model's tokenizer (its bytes as UTF-8; a piece
 * that is part of a character shows U+FFFD there, and its {@code bytes} are exact), whatever text the job released
 * with it: the tail holds text back while it could start a stop string, so a token's released text may be empty
 * and appear with a later token. A control token (end of turn) has no piece: its vocabulary text stands in
 * ({@code "<|im_end|>"}). {@code text_offset} is where the token's released text starts in the returned text, in
 * code points.
 */
public final class OpenAiLogprobs {

    private final Tokenizer tokenizer;
    /** A stream's tokens since its last chunk with logprobs (held-back text: they ride with the next text). */
    private final List<TokenFeed.Token> pending = new ArrayList<>();
    /** Code points of text a stream has sent before {@link #pending}. */
    private int sent;

    OpenAiLogprobs(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** For a stream of {@code job}: null if it asked for no logprobs. */
    static OpenAiLogprobs forStream(Job job, ServedModels models) {
        return job.logprobs == null ? null : new OpenAiLogprobs(models.resolve(job.model, "model").tokenizer());
    }

    /**
     * The logprobs object of a whole answer of {@code job} (chat or completion, by its kind), read from its stored
     * tokens; null if it asked for none.
     */
    public static Map<String, Object> answer(Job job, ServedModels models, TokenFeed feed) {
        if (job.logprobs == null) return null;
        OpenAiLogprobs lp = new OpenAiLogprobs(models.resolve(job.model, "model").tokenizer());
        List<TokenFeed.Token> tokens;
        try {
            tokens = feed.tokens(job.id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return OpenAiRequests.CHAT.equals(job.kind) ? lp.chat(tokens) : lp.completion(tokens, 0);
    }

    /** A streamed token; its logprobs go with the next {@link #takeChat} or {@link #takeCompletion}. */
    void add(TokenFeed.Token t) {
        pending.add(t);
    }

    /** Chat's logprobs of the tokens added since the last take, or null if none. */
    Map<String, Object> takeChat() {
        if (pending.isEmpty()) return null;
        Map<String, Object> m = chat(pending);
        take();
        return m;
    }

    /** The completions' logprobs of the tokens added since the last take, or null if none. */
    Map<String, Object> takeCompletion() {
        if (pending.isEmpty()) return null;
        Map<String, Object> m = completion(pending, sent);
        take();
        return m;
    }

    private void take() {
        for (TokenFeed.Token t : pending) sent += codePoints(t.text());
        pending.clear();
    }

    /** Chat's logprobs object for these tokens (those without logprobs are left out). */
    Map<String, Object> chat(List<TokenFeed.Token> tokens) {
        List<Map<String, Object>> content = new ArrayList<>();
        for (TokenFeed.Token t : tokens) {
            JobEvent.Logprobs lp = t.logprobs();
            if (lp == null) continue;
            Map<String, Object> entry = entry(t.tokenId(), lp.logprob());
            List<Map<String, Object>> top = new ArrayList<>(lp.topIds().length);
            for (int i = 0; i < lp.topIds().length; i++) top.add(entry(lp.topIds()[i], lp.topLogprobs()[i]));
            entry.put("top_logprobs", top);
            content.add(entry);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("content", content);
        m.put("refusal", null);
        return m;
    }

    /**
     * The completions' logprobs object for these tokens (those without logprobs are left out).
     *
     * @param offset code points of text returned before the first of them
     */
    Map<String, Object> completion(List<TokenFeed.Token> tokens, int offset) {
        List<String> texts = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        List<Map<String, Float>> tops = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        for (TokenFeed.Token t : tokens) {
            JobEvent.Logprobs lp = t.logprobs();
            if (lp != null) {
                texts.add(text(t.tokenId()));
                logprobs.add(lp.logprob());
                Map<String, Float> top = new LinkedHashMap<>();
                // two ids with one text (rare) keep the likelier, which comes first
                for (int i = 0; i < lp.topIds().length; i++) top.putIfAbsent(text(lp.topIds()[i]), lp.topLogprobs()[i]);
                tops.add(top);
                offsets.add(offset);
            }
            offset += codePoints(t.text());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokens", texts);
        m.put("token_logprobs", logprobs);
        m.put("top_logprobs", tops);
        m.put("text_offset", offsets);
        return m;
    }

    static int codePoints(String s) {
        return s == null ? 0 : s.codePointCount(0, s.length());
    }

    private Map<String, Object> entry(int token, float logprob) {
        byte[] bytes = bytes(token);
        List<Integer> list = new ArrayList<>(bytes.length);
        for (byte b : bytes) list.add(b & 0xFF);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("token", new String(bytes, StandardCharsets.UTF_8));
        m.put("logprob", logprob);
        m.put("bytes", list);
        return m;
    }

    private String text(int token) {
        return new String(bytes(token), StandardCharsets.UTF_8);
    }

    /** The token's piece; for a token without one (control), its vocabulary text. */
    private byte[] bytes(int token) {
        if (token < 0 || token >= tokenizer.vocabSize()) return new byte[0];
        byte[] piece = tokenizer.tokenBytes(token);
        return piece.length > 0 ? piece : tokenizer.tokenText(token).getBytes(StandardCharsets.UTF_8);
    }
}
