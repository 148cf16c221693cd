package dev.bunshin.worker;

import dev.bunshin.db.JobsTable;
import dev.bunshin.engine.EmbeddingPool;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.StopStrings;
import dev.bunshin.engine.sample.TokenLogprobs;
import dev.bunshin.engine.sample.grammar.TokenConstraint;
import dev.bunshin.engine.tokenizer.TokenDecoder;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Set;

/**
 * The tail's state for one running job: everything needed to sample the next token and decide whether the job
 * ends. A cache over the database: it can always be rebuilt from the job row and its job_tokens ({@link #replay}).
 */
final class TailJob {

    final long id;
    final int promptLength;
    private final int maxTokens;
    private final int contextLength;
    final Sampler sampler;
    /** How many alternatives per token the job wants logprobs for, or -1: none (and nothing is computed). */
    private final int logprobs;
    private final Set<Integer> stopTokens;
    /** The document the output must be (jobs.response_format), or null: free text. */
    private final TokenConstraint constraint;
    private final Tokenizer tokenizer;
    private final TokenDecoder decoder;
    private final StopStrings stops;
    private final StringBuilder text = new StringBuilder();
    /** Prompt then generated tokens, for the penalties. */
    private int[] history; // [historyLength]
    private int historyLength;
    /** Generated tokens so far = index of the next one to sample. */
    int next;
    /** The last generated token, or -1. */
    int lastToken = -1;
    /** Whether the last token sampled ends the job (its store may still be on its way). */
    boolean ended;
    /** An embedding job's pool of its prompt's final hidden states so far; null for a job that samples. */
    EmbeddingPool embedding;
    /** When the job was created and its last token committed, for {@link TailMetrics}. */
    final TailMetrics.JobClock clock = new TailMetrics.JobClock();

    TailJob(long id, int[] prompt, int maxTokens, int contextLength, Sampler sampler, Set<Integer> stopTokens,
            java.util.List<String> stopStrings, Tokenizer tokenizer, int logprobs, TokenConstraint constraint) {
        if (logprobs > TokenLogprobs.MAX_TOP) {
            throw new IllegalArgumentException("job " + id + ": logprobs " + logprobs + " > " + TokenLogprobs.MAX_TOP);
        }
        this.id = id;
        this.logprobs = logprobs;
        this.promptLength = prompt.length;
        this.maxTokens = maxTokens;
        this.contextLength = contextLength;
        this.sampler = sampler;
        this.stopTokens = stopTokens;
        this.constraint = constraint;
        this.tokenizer = tokenizer;
        this.decoder = tokenizer.newDecoder();
        this.stops = new StopStrings(stopStrings);
        this.history = Arrays.copyOf(prompt, prompt.length + Math.min(maxTokens, 256));
        this.historyLength = prompt.length;
    }

    /**
     * Samples generated token {@link #next} from the logits of the position before it and accepts it (the row to
     * write). Its logprobs, if the job asked, come from the very array the sampler chose from.
     *
     * <p>With a response format, the lazy way of llama.cpp's server ({@link TokenConstraint#choose}): the sampler
     * chooses from the penalised logits as usual, and only if the constraint refuses that token does it choose again
     * from the masked logits (every refused token at -infinity). Greedy, this is exactly the argmax over the allowed
     * tokens. Logprobs, when
     * asked, always describe the masked distribution (the mask is then computed every token): the alternatives a
     * client sees are tokens the document allowed, and an enum's choices share the probability among themselves.
     *
     * @throws IllegalStateException if the constraint allows no token at all (the job must fail, not loop)
     */
    JobsTable.Token step(float[] logits) {
        float[] seen = sampler.penalised(logits, history, historyLength);
        int token;
        float[] masked = null;
        if (constraint == null) {
            token = sampler.choose(seen, next);
        } else {
            try {
                TokenConstraint.Choice c = constraint.choose(sampler, seen, next);
                token = c.token();
                masked = c.masked();
            } catch (IllegalStateException e) {
                throw new IllegalStateException("job " + id + ": " + e.getMessage() + " (after " + next
                        + " generated token(s))", e);
            }
        }
        if (logprobs < 0) return accept(token, null);
        float[] from = constraint == null ? seen : masked != null ? masked : constraint.masked(seen);
        TokenLogprobs lp = TokenLogprobs.of(from, sampler.params().temperature(), token, logprobs);
        return accept(token, new JobsTable.Logprobs(lp.logprob(), lp.topIds(), lp.topLogprobs()));
    }

    /** Accepts generated token {@link #next}: releases its text and decides whether the job ends (the row to write). */
    private JobsTable.Token accept(int token, JobsTable.Logprobs lp) {
        int position = next;
        if (historyLength == history.length) history = Arrays.copyOf(history, history.length * 2);
        history[historyLength++] = token;
        next++;
        lastToken = token;
        if (constraint != null) constraint.accept(token);
        String finish = null;
        StringBuilder released = new StringBuilder();
        if (tokenizer.isEndOfGeneration(token) || stopTokens.contains(token)) {
            finish = "stop"; // the end token itself renders as nothing
        } else {
            released.append(stops.push(decoder.push(token)).text());
            if (stops.stopped()) finish = "stop";
            // The document (and its suffix) is whole and nothing may follow: done, without spending a token on EOS.
            else if (constraint != null && constraint.complete()) finish = "stop";
            // The token just accepted would be fed at position promptLength + position: it must be in the context.
            else if (next >= maxTokens || promptLength + next > contextLength) finish = "length";
        }
        if (finish != null && !stops.stopped()) {
            released.append(stops.push(decoder.flush()).text());
            if (stops.stopped()) finish = "stop";
            else released.append(stops.flush());
        }
        text.append(released);
        return new JobsTable.Token(id, position, token, released.toString(), finish,
                finish != null ? text.toString() : null, lp);
    }

    /** Rebuilds state from a token already stored in job_tokens. */
    void replay(int token) {
        accept(token, null);
    }
}
