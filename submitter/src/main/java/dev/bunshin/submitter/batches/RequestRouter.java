package dev.bunshin.submitter.batches;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.jobs.JobRequests;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.openai.OpenAiRequests;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** Which request reader handles a url, for batch lines (each line names the endpoint it would have been sent to). */
@ApplicationScoped
public class RequestRouter {

    public static final String JOBS = "/v1/jobs";
    public static final String COMPLETIONS = "/v1/completions";
    public static final String CHAT = "/v1/chat/completions";
    public static final List<String> URLS = List.of(CHAT, COMPLETIONS, JOBS);

    private final JobRequests jobs;
    private final OpenAiRequests openai;

    RequestRouter(JobRequests jobs, OpenAiRequests openai) {
        this.jobs = jobs;
        this.openai = openai;
    }

    JobSpec spec(String url, Fields body) {
        return switch (url) {
            case JOBS -> jobs.job(body);
            case COMPLETIONS -> openai.completion(body);
            case CHAT -> openai.chat(body);
            default -> throw ApiException.invalid("url", "unsupported_url", "unsupported url '" + url + "'");
        };
    }
}
