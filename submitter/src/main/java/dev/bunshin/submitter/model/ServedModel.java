package dev.bunshin.submitter.model;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.models.catalog.ModelInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * The model this submitter accepts jobs for: its id, its tokenizer (prompts are tokenized here, once, so the
 * stage workers never see text), its context length (the stage plan's), and its chat template. Holds the GGUF file open
 * (a read-only mapping) for its metadata.
 */
public final class ServedModel implements AutoCloseable {

    /**
     * Texts of end-of-turn tokens chat templates close a message with (llama.cpp's vocab list of end-of-generation
     * texts). Those the template uses become the job's {@code stop_tokens}.
     */
    static final List<String> END_OF_TURN_TEXTS = List.of("<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>",
            "<end_of_turn>", "<|endoftext|>", "<|END_OF_TURN_TOKEN|>", "<|end_of_text|>", "<EOT>", "<|return|>",
            "<｜end▁of▁sentence｜>", "</s>");

    private final String id;
    private final GgufFile file;
    private final Tokenizer tokenizer;
    private final int trainedContextLength;
    private final IntSupplier plannedContextLength; // 0: no plan yet (or one stored without it)
    private final String architecture;
    private final long createdEpochSeconds;
    private final ModelInfo info;         // what the file says: architecture, dimensions, trained context, size

    private ServedModel(String id, GgufFile file, Tokenizer tokenizer, IntSupplier plannedContextLength)
            throws IOException {
        this.id = id;
        this.plannedContextLength = plannedContextLength;
        this.file = file;
        this.tokenizer = tokenizer;
        this.info = ModelInfo.of(file);
        this.architecture = info.architecture();
        this.trainedContextLength = info.contextLength();
        this.createdEpochSeconds = Files.getLastModifiedTime(file.path()).toInstant().getEpochSecond();
    }

    /**
     * Opens a GGUF file and builds its tokenizer.
     *
     * @param id                   the id clients name the model by; null means the file name without {@code .gguf}
     * @param plannedContextLength the context length of the current stage plan, 0 when there is none
     */
    public static ServedModel open(Path path, String id, IntSupplier plannedContextLength) throws IOException {
        GgufFile file = GgufFile.open(path);
        try {
            return new ServedModel(id == null || id.isBlank() ? defaultId(path) : id, file, Tokenizer.fromGguf(file),
                    plannedContextLength);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    static String defaultId(Path path) {
        String name = path.getFileName().toString();
        return name.endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
    }

    public String id() {
        return id;
    }

    /** Whether a request's {@code model} names this model (Ollama clients add a {@code :latest} tag). */
    public boolean answersTo(String name) {
        return name.equals(id) || name.equals(id + ":latest") || name.equals(file.path().getFileName().toString());
    }

    public GgufFile file() {
        return file;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Prompt text to token ids, BOS added as the model asks. {@code parseSpecial}: for rendered chat templates. */
    public int[] tokenize(String text, boolean parseSpecial) {
        return tokenizer.encode(text, true, parseSpecial);
    }

    /**
     * Positions per job: the current stage plan's (the scheduler derives it once, from {@code bunshin.context-length}
     * or the model), else, before the first plan, the model's trained context.
     */
    public int contextLength() {
        int planned = plannedContextLength.getAsInt();
        return planned > 0 ? planned : trainedContextLength;
    }

    /** Transformer blocks in the model (GGUF {@code <arch>.block_count}): what a stage plan splits. */
    public int layerCount() {
        return info.nLayers();
    }

    /** The context the model was trained with (GGUF {@code <arch>.context_length}). */
    public int trainedContextLength() {
        return trainedContextLength;
    }

    public String architecture() {
        return architecture;
    }

    /** The GGUF {@code tokenizer.chat_template}, or null. */
    public String chatTemplate() {
        return info.chatTemplate();
    }

    public String tokenText(int token) {
        return token >= 0 && token < tokenizer.vocabSize() ? tokenizer.tokenText(token) : "";
    }

    /** Id of the token whose text is exactly this, or -1. */
    public int tokenId(String text) {
        return tokenizer.tokenId(text);
    }

    public String bosText() {
        return tokenText(tokenizer.bos());
    }

    public String eosText() {
        return tokenText(tokenizer.eos());
    }

    /** End-of-turn token ids a rendered template uses: they end the assistant's reply. */
    public int[] endOfTurnTokens(String template) {
        Set<Integer> ids = new LinkedHashSet<>();
        for (String text : END_OF_TURN_TEXTS) {
            if (template.contains(text)) {
                int t = tokenId(text);
                if (t >= 0) {
                    ids.add(t);
                }
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    public long createdEpochSeconds() {
        return createdEpochSeconds;
    }

    public long sizeBytes() {
        return file.size();
    }

    public long parameterCount() {
        return info.parameterCount();
    }

    public String displayName() {
        return info.name() != null ? info.name() : id;
    }

    @Override
    public void close() {
        file.close();
    }
}
