package dev.bunshin.engine;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.SamplingParams;
import dev.bunshin.engine.tokenizer.TokenDecoder;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * In-process generation: a model split into stages that run one after another in this JVM
 * ({@code StageRunner → StageRunner → …}), the same path the distributed pipeline takes, without Kafka. This is
 * "the engine's in-process output" that the pipeline and the tests compare against.
 *
 * <p>Uses only the public {@link StageRunner}, {@link Tokenizer} and {@link Sampler} APIs.
 */
public final class Generator implements AutoCloseable {

    /** Prompt tokens per stage call: bounds the activations of one prefill call. */
    static final int PREFILL_CHUNK = 512;

    private final Tokenizer tokenizer;
    private final List<StageBackend> stages;
    private final int nEmbd;
    private final int contextLength; // positions per sequence
    private final AtomicLong nextSeq = new AtomicLong(1);

    private Generator(Tokenizer tokenizer, List<StageBackend> stages, int nEmbd, int contextLength) {
        this.tokenizer = tokenizer;
        this.stages = stages;
        this.nEmbd = nEmbd;
        this.contextLength = contextLength;
    }

    /**
     * Loads {@code file} split into {@code nStages} near-equal layer ranges ({@link LayerRange#split}). The file
     * must stay open while the generator is used.
     */
    public static Generator load(GgufFile file, int nStages, EngineOptions options) throws IOException {
        Objects.requireNonNull(file, "file == null");
        Tokenizer tokenizer = Tokenizer.fromGguf(file);
        List<StageRunner> stages = new ArrayList<>();
        try {
            for (LayerRange r : LayerRange.split(nLayers(file), nStages)) {
                stages.add(StageRunner.load(file, r, options));
            }
            return of(tokenizer, stages);
        } catch (IOException | RuntimeException e) {
            stages.forEach(StageRunner::close);
            throw e;
        }
    }

    /**
     * A generator over stages already loaded, of any backend ({@link StageRunner}, the llama.cpp backend, mixed),
     * first to last; it closes them.
     */
    public static Generator of(Tokenizer tokenizer, List<? extends StageBackend> stages) {
        Objects.requireNonNull(tokenizer, "tokenizer == null");
        if (stages.isEmpty()) throw new IllegalArgumentException("no stages");
        StageBackend first = stages.getFirst();
        return new Generator(tokenizer, List.copyOf(stages), first.nEmbd(), first.contextLength());
    }

    private static int nLayers(GgufFile file) throws IOException {
        String arch = file.getString(GgufKeys.GENERAL_ARCHITECTURE);
        return file.getInt(GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT));
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The stages, first to last. */
    public List<StageBackend> stages() {
        return stages;
    }

    /**
     * What one generation produced.
     *
     * @param promptTokens   the prompt as tokenized (with BOS if the model adds it)
     * @param tokens         generated tokens (an end-of-generation token is not included)
     * @param text           the generated text
     * @param endOfGeneration whether the model ended it (rather than the token limit)
     * @param prefillNanos   time to run the prompt through all stages and sample the first token
     * @param decodeNanos    time for the remaining tokens
     */
    public record Result(int[] promptTokens, int[] tokens, String text, boolean endOfGeneration, long prefillNanos,
                         long decodeNanos) {
        /** Generated tokens per second after the first one. */
        public double decodeTokensPerSecond() {
            return tokens.length <= 1 || decodeNanos <= 0 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
        }

        /** Prompt tokens per second. */
        public double prefillTokensPerSecond() {
            return prefillNanos <= 0 ? 0 : promptTokens.length * 1e9 / prefillNanos;
        }
    }

    /**
     * Tokenizes {@code prompt} (adding BOS as the model asks, and recognising special-token text) and generates.
     *
     * @param onText receives text as soon as complete characters are decoded (may be null)
     */
    public Result generate(String prompt, int maxTokens, SamplingParams params, Consumer<String> onText) {
        return generate(tokenizer.encode(prompt, true, true), maxTokens, params, onText);
    }

    /**
     * Generates after the given prompt tokens, until an end-of-generation token, {@code maxTokens}, or the end of
     * the context (whichever comes first).
     *
     * @throws IllegalArgumentException if the prompt is empty or does not fit in the context
     */
    public Result generate(int[] promptTokens, int maxTokens, SamplingParams params, Consumer<String> onText) {
        Objects.requireNonNull(promptTokens, "promptTokens == null");
        if (promptTokens.length == 0) throw new IllegalArgumentException("empty prompt: nothing to condition on");
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        if (promptTokens.length >= contextLength) {
            throw new IllegalArgumentException("the prompt has " + promptTokens.length + " tokens but the context holds "
                    + contextLength + " positions (and one more is needed to generate)");
        }
        // The last generated token is sampled, not run: positions up to contextLength - 1 are enough.
        maxTokens = Math.min(maxTokens, contextLength - promptTokens.length + 1);
        Sampler sampler = new Sampler(params);
        TokenDecoder decoder = tokenizer.newDecoder();
        StringBuilder text = new StringBuilder();
        long seq = nextSeq.getAndIncrement();
        int[] history = Arrays.copyOf(promptTokens, promptTokens.length + maxTokens); // prompt then generated
        int historyLength = promptTokens.length;
        int nGenerated = 0;
        boolean eog = false;
        long t0 = System.nanoTime();
        long tFirst = t0;
        try {
            float[] logits = null;
            for (int p = 0; p < promptTokens.length; p += PREFILL_CHUNK) {
                int[] chunk = Arrays.copyOfRange(promptTokens, p, Math.min(promptTokens.length, p + PREFILL_CHUNK));
                logits = forward(seq, p, chunk);
            }
            int pos = promptTokens.length;
            for (int step = 0; step < maxTokens; step++) {
                int token = sampler.sample(logits, history, historyLength, step);
                if (step == 0) tFirst = System.nanoTime();
                if (tokenizer.isEndOfGeneration(token)) {
                    eog = true;
                    break;
                }
                history[historyLength++] = token;
                nGenerated++;
                String piece = decoder.push(token);
                emit(piece, text, onText);
                if (step + 1 == maxTokens) break;
                logits = forward(seq, pos++, new int[]{token});
            }
            emit(decoder.flush(), text, onText);
        } finally {
            for (StageBackend s : stages) s.free(seq);
        }
        long tEnd = System.nanoTime();
        return new Result(promptTokens, Arrays.copyOfRange(history, promptTokens.length, historyLength),
                text.toString(), eog, tFirst - t0, tEnd - tFirst);
    }

    private static void emit(String piece, StringBuilder text, Consumer<String> onText) {
        if (piece == null || piece.isEmpty()) return;
        text.append(piece);
        if (onText != null) onText.accept(piece);
    }

    /**
     * Runs tokens at {@code pos} of sequence {@code seq} through every stage; returns the logits of the last
     * position, F32 [nVocab].
     */
    public float[] forward(long seq, int pos, int[] tokens) {
        StageInput in = StageInput.ofTokens(seq, pos, tokens);
        for (int i = 0; i < stages.size(); i++) {
            StageOutput out = stages.get(i).forward(List.of(in)).getFirst();
            if (i == stages.size() - 1) {
                return out.logits();
            }
            in = StageInput.ofActivations(seq, pos, out.activations()); // F32 [nTokens, nEmbd]
        }
        throw new IllegalStateException("no stages");
    }

    /**
     * Runs a batch of sequences through every stage in one call per stage; returns each input's logits, F32
     * [nVocab], in input order.
     */
    public List<float[]> forwardBatch(List<StageInput> batch) {
        List<StageInput> in = batch;
        for (int i = 0; i < stages.size(); i++) {
            List<StageOutput> out = stages.get(i).forward(in);
            if (i == stages.size() - 1) {
                return out.stream().map(StageOutput::logits).toList();
            }
            in = out.stream().map(o -> StageInput.ofActivations(o.seqId(), o.pos(), o.activations())).toList();
        }
        throw new IllegalStateException("no stages");
    }

    /** Frees a sequence's KV cache in every stage. */
    public void free(long seq) {
        for (StageBackend s : stages) s.free(seq);
    }

    /** Positions per sequence: the prompt and the generated tokens together. */
    public int contextLength() {
        return contextLength;
    }

    /** Embedding length, the width of the activations between stages. */
    public int nEmbd() {
        return nEmbd;
    }

    @Override
    public void close() {
        for (StageBackend s : stages) s.close();
    }
}
