package dev.bunshin.submitter.jobs;

import dev.bunshin.db.JobEmbeddings;
import dev.bunshin.engine.EmbeddingPool;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Tenant;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ServedModels;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;

/**
 * Embeds inputs as jobs of kind {@link JobEmbeddings#KIND}, for the OpenAI and Ollama embedding routes: every input is
 * one job, all submitted before any is awaited (so the stages prefill them in the same engine calls), answered in
 * input order. The tail pools each prompt's final hidden states as the model's pooling type says and stores the
 * vector; this answers it L2-normalised (as llama-server and Ollama's /api/embed do) or raw (Ollama's legacy route).
 */
@ApplicationScoped
public class Embeddings {

    /** One input's result: its vector and how many prompt tokens it took. */
    public record Result(float[] embedding, int promptTokens) {
    }

    private final Completions completions;
    private final ServedModels models;

    Embeddings(Completions completions, ServedModels models) {
        this.completions = completions;
        this.models = models;
    }

    /** The served model a request names (null or blank: the default); one not served is a 404 naming {@code param}. */
    public ServedModel model(String name, String param) {
        return models.resolve(name, param);
    }

    /**
     * The spec of one embedding job. Prompt tokens are used as given (text is tokenised with BOS, as llama-server
     * does); {@code truncate} keeps the first positions that fit the context, else a prompt too long is refused.
     *
     * @throws ApiException 400 naming {@code param} for an empty input, a token id outside the vocabulary or a prompt
     *                      longer than the context
     */
    public static JobSpec spec(ServedModel model, String text, int[] tokens, String param, boolean truncate) {
        int[] t = tokens != null ? tokens : model.tokenize(text, false);
        if (t.length == 0) throw ApiException.invalid(param, "'" + param + "' must not be empty");
        int nVocab = model.tokenizer().vocabSize();
        for (int id : t) {
            if (id < 0 || id >= nVocab) {
                throw ApiException.invalid(param, "'" + param + "' has token id " + id + ", outside the vocabulary [0, "
                        + nVocab + ")");
            }
        }
        int ctx = model.contextLength();
        if (t.length >= ctx) {
            if (!truncate) {
                throw ApiException.invalid(param, "context_length_exceeded", "'" + param + "' is " + t.length
                        + " tokens but model " + model.id() + " has a context of " + ctx + " tokens");
            }
            t = java.util.Arrays.copyOf(t, ctx - 1);
        }
        String prompt = text != null ? text : "";
        // max_tokens 1: the column must be positive; the tail samples nothing for an embedding job.
        return new JobSpec(model.id(), JobEmbeddings.KIND, prompt, t, 1, Sampling.OPENAI, 0, List.of(), new int[0], null,
                null, null, false);
    }

    /** A completed embedding job's vector (L2-normalised, or raw) and its prompt's length. */
    public static Result result(Job job, boolean normalize) {
        return new Result(normalize ? EmbeddingPool.normalized(job.embedding) : job.embedding, job.promptTokens.length);
    }

    /**
     * Submits every spec, then waits for each in order. A client that goes away cancels the jobs; a job that fails
     * cancels the rest and answers 500 naming it.
     *
     * @param normalize whether vectors are L2-normalised
     */
    public List<Result> run(List<JobSpec> specs, Tenant tenant, Client client, boolean normalize) {
        List<Job> jobs = new ArrayList<>(specs.size());
        for (JobSpec s : specs) jobs.add(completions.submit(s, tenant));
        List<Result> out = new ArrayList<>(jobs.size());
        for (int i = 0; i < jobs.size(); i++) {
            Job job = completions.await(jobs.get(i), client).job();
            if (!Job.COMPLETED.equals(job.status) || job.embedding == null) {
                for (int k = i + 1; k < jobs.size(); k++) completions.cancel(jobs.get(k));
                if (Job.FAILED.equals(job.status)) throw Completions.failed(job);
                throw new ApiException(500, "server_error", null, "job_" + job.status,
                        "embedding job " + job.id + " ended " + job.status + " without an embedding");
            }
            out.add(result(job, normalize));
        }
        return out;
    }
}
