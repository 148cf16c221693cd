package dev.bunshin.submitter.batches;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.db.JobEmbeddings;
import dev.bunshin.submitter.jobs.Embeddings;
import dev.bunshin.submitter.jobs.Job;
import dev.bunshin.submitter.jobs.JobService;
import dev.bunshin.submitter.jobs.JobView;
import dev.bunshin.submitter.jobs.TokenFeed;
import dev.bunshin.submitter.model.ServedModels;
import dev.bunshin.submitter.openai.OpenAiLogprobs;
import dev.bunshin.submitter.openai.OpenAiEmbeddings;
import dev.bunshin.submitter.openai.OpenAiObjects;
import dev.bunshin.submitter.openai.OpenAiRequests;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A batch's two JSONL files: the output (one line per request whose jobs have all ended, in input order) and the errors
 * (one line per rejected input line). Both are read from the database a page at a time (keyset on the line
 * number), each page in its own short transaction, and written out before the next is read: a 100k-line batch
 * never sits in memory as entities, and a slow reader holds no transaction.
 */
@ApplicationScoped
public class BatchFiles {

    private final EntityManager em;
    private final ObjectMapper mapper;
    private final JobService jobs;
    private final int pageSize;
    private final ServedModels models;
    private final TokenFeed feed;

    BatchFiles(EntityManager em, ObjectMapper mapper, JobService jobs, ServedModels models, TokenFeed feed,
               @ConfigProperty(name = "bunshin.api.batch-page", defaultValue = "1000") int pageSize) {
        this.em = em;
        this.models = models;
        this.feed = feed;
        this.mapper = mapper;
        this.jobs = jobs;
        this.pageSize = pageSize;
    }

    /** Writes the output lines of the jobs that have ended so far. */
    public void writeOutput(String batchId, OutputStream out) throws IOException {
        writePages(out, after -> outputPage(batchId, after));
    }

    /** Writes one line per rejected input line: its number, custom_id, offending field and message. */
    public void writeErrors(String batchId, OutputStream out) throws IOException {
        writePages(out, after -> errorPage(batchId, after));
    }

    /** The whole output, for the file a batch stores when it ends. */
    byte[] output(String batchId) {
        return whole(after -> outputPage(batchId, after));
    }

    /** The whole error file, for the file a batch stores when it ends. */
    byte[] errors(String batchId) {
        return whole(after -> errorPage(batchId, after));
    }

    /** Reads page after page (each in a transaction of its own, or the caller's) and writes each before the next. */
    private void writePages(OutputStream out, IntFunction<Page> read) throws IOException {
        int after = 0;
        while (true) {
            int from = after;
            Page page = QuarkusTransaction.joiningExisting().call(() -> read.apply(from));
            out.write(page.bytes());
            if (page.rows() < pageSize) {
                return;
            }
            after = page.lastLine();
        }
    }

    private byte[] whole(IntFunction<Page> read) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writePages(out, read);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** One page's JSONL, how many rows it read, and the last line number read (the next page's cursor). */
    private record Page(byte[] bytes, int rows, int lastLine) {}

    private Page outputPage(String batchId, int afterLine) {
        List<Job> list = Job.<Job>find("batchId = ?1 and batchLine > ?2 order by batchLine, id", batchId, afterLine)
                .page(0, pageSize).list();
        List<Job> jobs = new ArrayList<>(list);
        if (list.size() == pageSize) { // the page may end inside a line of several jobs: read the rest of that line
            Job last = list.getLast();
            jobs.addAll(Job.<Job>find("batchId = ?1 and batchLine = ?2 and id > ?3 order by id", batchId,
                    last.batchLine, last.id).list());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0, end; i < jobs.size(); i = end) {
            end = i + 1;
            while (end < jobs.size() && jobs.get(end).batchLine.equals(jobs.get(i).batchLine)) end++;
            List<Job> line = jobs.subList(i, end);
            if (line.stream().allMatch(Job::isFinished)) {
                writeLine(out, outputLine(line));
            }
        }
        jobs.forEach(em::detach);
        return new Page(out.toByteArray(), list.size(), list.isEmpty() ? afterLine : list.getLast().batchLine);
    }

    /** The output line of one input line's jobs (one; one per input of an embeddings line, in input order). */
    private Map<String, Object> outputLine(List<Job> jobs) {
        Job j = jobs.stream().filter(x -> !Job.COMPLETED.equals(x.status)).findFirst().orElse(jobs.getFirst());
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("id", "batch_req_" + jobs.getFirst().id);
        line.put("custom_id", j.customId);
        line.put("line", j.batchLine);
        if (Job.COMPLETED.equals(j.status)) {
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("status_code", 200);
            response.put("request_id", String.valueOf(j.id));
            response.put("body", JobEmbeddings.KIND.equals(j.kind)
                    ? OpenAiEmbeddings.answer(j.model, jobs.stream().map(x -> Embeddings.result(x, true)).toList(), false)
                    : body(j));
            line.put("response", response);
            line.put("error", null);
        } else {
            boolean cancelled = Job.CANCELLED.equals(j.status);
            line.put("response", null);
            line.put("error", error(cancelled ? "cancelled" : "job_failed", cancelled ? "the request was cancelled"
                    : (j.error == null ? "the job failed" : j.error), null, j.batchLine));
        }
        return line;
    }

    /** A completed generation job's answer, in the shape of the url its line named. */
    private Object body(Job j) {
        JobService.Snapshot s = jobs.snapshot(j);
        return switch (j.kind) {
            case OpenAiRequests.COMPLETION -> OpenAiObjects.completion(j, s.text(), s.tokenCount(),
                    OpenAiLogprobs.answer(j, models, feed));
            case OpenAiRequests.CHAT -> OpenAiObjects.chat(j, s.text(), s.tokenCount(),
                    OpenAiLogprobs.answer(j, models, feed));
            default -> JobView.of(s);
        };
    }

    private Page errorPage(String batchId, int afterLine) {
        List<BatchError> list = BatchError.<BatchError>find("batchId = ?1 and line > ?2 order by line", batchId, afterLine)
                .page(0, pageSize).list();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (BatchError e : list) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("id", "batch_req_line_" + e.line);
            line.put("custom_id", e.customId);
            line.put("line", e.line);
            line.put("response", null);
            line.put("error", error(e.code, e.message, e.param, e.line));
            writeLine(out, line);
            em.detach(e);
        }
        return new Page(out.toByteArray(), list.size(), list.isEmpty() ? afterLine : list.getLast().line);
    }

    static Map<String, Object> error(String code, String message, String param, Integer line) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", code);
        m.put("message", message);
        m.put("param", param);
        m.put("line", line);
        return m;
    }

    private void writeLine(ByteArrayOutputStream out, Object line) {
        try {
            out.writeBytes(mapper.writeValueAsString(line).getBytes(StandardCharsets.UTF_8));
            out.write('\n');
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing a batch file line: " + e.getMessage(), e);
        }
    }
}
