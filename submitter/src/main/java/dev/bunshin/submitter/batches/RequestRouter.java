package dev.bunshin.submitter.batches;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.jobs.JobRequests;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.openai.OpenAiEmbeddings;
import dev.bunshin.submitter.openai.OpenAiRequests;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** Which request reader handles a url, for batch lines (each line names the endpoint it would have been sent to). */
@ApplicationScoped
public class RequestRouter {

    public static final String JOBS = "/v1/jobs";
    public static final String COMPLETIONS = "/v1/completions";
    public static final String CHAT = "/v1/chat/completions";
    public static final String EMBEDDINGS = "/v1/embeddings";
    public static final List<String> URLS = List.of(CHAT, COMPLETIONS, EMBEDDINGS, JOBS);

    private final JobRequests jobs;
    private final OpenAiRequests openai;
    private final OpenAiEmbeddings embeddings;

    RequestRouter(JobRequests jobs, OpenAiRequests openai, OpenAiEmbeddings embeddings) {
        this.jobs = jobs;
        this.openai = openai;
        this.embeddings = embeddings;
    }

    /**
     * The jobs of one line, in the order its answer lists them: one, but one per input of an embeddings line.
     * An embeddings line's vectors are written as floats: {@code encoding_format} base64 is refused, naming it.
     */
    List<JobSpec> specs(String url, Fields body) {
        return switch (url) {
            case JOBS -> List.of(jobs.job(body));
            case COMPLETIONS -> List.of(openai.completion(body));
            case CHAT -> List.of(openai.chat(body));
            case EMBEDDINGS -> {
                OpenAiEmbeddings.Request r = embeddings.read(body);
                if (r.base64()) {
                    throw ApiException.invalid("encoding_format", "unsupported_parameter", "'encoding_format' "
                            + "base64 is not supported in a batch: its output lines carry floats; leave it out");
                }
                yield r.specs();
            }
            default -> throw ApiException.invalid("url", "unsupported_url", "unsupported url '" + url + "'");
        };
    }
}
