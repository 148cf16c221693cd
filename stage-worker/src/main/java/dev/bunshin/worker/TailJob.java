package dev.bunshin.worker;

import dev.bunshin.db.JobsTable;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.StopStrings;
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
    private final Set<Integer> stopTokens;
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
    /** When the job was created and its last token committed, for {@link TailMetrics}. */
    final TailMetrics.JobClock clock = new TailMetrics.JobClock();

    TailJob(long id, int[] prompt, int maxTokens, int contextLength, Sampler sampler, Set<Integer> stopTokens,
            java.util.List<String> stopStrings, Tokenizer tokenizer) {
        this.id = id;
        this.promptLength = prompt.length;
        this.maxTokens = maxTokens;
        this.contextLength = contextLength;
        this.sampler = sampler;
        this.stopTokens = stopTokens;
        this.tokenizer = tokenizer;
        this.decoder = tokenizer.newDecoder();
        this.stops = new StopStrings(stopStrings);
        this.history = Arrays.copyOf(prompt, prompt.length + Math.min(maxTokens, 256));
        this.historyLength = prompt.length;
    }

    /** Samples generated token {@link #next} from the logits of the position before it. */
    int sample(float[] logits) {
        return sampler.sample(logits, history, historyLength, next);
    }

    /** Accepts generated token {@link #next}: releases its text and decides whether the job ends (the row to write). */
    JobsTable.Token accept(int token) {
        int position = next;
        if (historyLength == history.length) history = Arrays.copyOf(history, history.length * 2);
        history[historyLength++] = token;
        next++;
        lastToken = token;
        String finish = null;
        StringBuilder released = new StringBuilder();
        if (tokenizer.isEndOfGeneration(token) || stopTokens.contains(token)) {
            finish = "stop"; // the end token itself renders as nothing
        } else {
            released.append(stops.push(decoder.push(token)).text());
            if (stops.stopped()) finish = "stop";
            // The token just accepted would be fed at position promptLength + position: it must be in the context.
            else if (next >= maxTokens || promptLength + next > contextLength) finish = "length";
        }
        if (finish != null && !stops.stopped()) {
            released.append(stops.push(decoder.flush()).text());
            if (stops.stopped()) finish = "stop";
            else released.append(stops.flush());
        }
        text.append(released);
        return new JobsTable.Token(id, position, token, released.toString(), finish, finish != null ? text.toString() : null);
    }

    /** Rebuilds state from a token already stored in job_tokens. */
    void replay(int token) {
        accept(token);
    }
}
