package dev.bunshin.submitter.jobs;

import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ServedModels;
import jakarta.enterprise.context.ApplicationScoped;

/** Reads a native job request (POST /v1/jobs, or a batch line with url /v1/jobs) into a {@link JobSpec}. */
@ApplicationScoped
public class JobRequests {

    public static final String KIND = "job";

    private final ServedModels models;

    JobRequests(ServedModels models) {
        this.models = models;
    }

    public JobSpec job(Fields f) {
        ServedModel model = models.resolve(f.string("model"), "model");
        String prompt = f.string("prompt");
        MaxTokens maxTokens = MaxTokens.of(f.integer("max_tokens"), "max_tokens");
        Sampling sampling = Sampling.JOBS.read(f);
        String format = ResponseFormats.jobs(f);
        return JobSpecs.build(model, KIND, prompt, "prompt", false, maxTokens, sampling, null)
                .withResponseFormat(format);
    }
}
