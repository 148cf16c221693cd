package dev.bunshin.submitter.jobs;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Tenant;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.StreamingOutput;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a request as a job and waits for it, for the APIs that answer with the generated text (OpenAI, Ollama):
 * either blocking until the job ends, or streaming its tokens to a listener. A streaming client that goes away
 * cancels its job: nobody is left to read the answer.
 */
@ApplicationScoped
public class Completions {

    private static final Logger LOG = Logger.getLogger(Completions.class);

    private final JobService jobs;
    private final TokenFeed feed;

    Completions(JobService jobs, TokenFeed feed) {
        this.jobs = jobs;
        this.feed = feed;
    }

    public Job submit(JobSpec spec, Tenant tenant) {
        return jobs.create(spec, tenant);
    }

    /**
     * Blocks until the job ends; its final state and text. A {@code client} that goes away meanwhile cancels the
     * job (within {@link TokenFeed#CHECK_MILLIS}): the snapshot is then the cancelled job, for nobody.
     */
    public JobService.Snapshot await(Job job, Client client) {
        try {
            feed.follow(job.id, Integer.MAX_VALUE - 1, new TokenFeed.Listener() {
                @Override
                public void token(TokenFeed.Token t) {
                }

                @Override
                public void check() throws IOException {
                    client.check();
                }
            });
        } catch (IOException e) {
            cancelQuietly(job);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for job " + job.id, e);
        }
        return jobs.snapshot(job.id, own(job));
    }

    /**
     * Streams the job's tokens, sending {@code keepAlive} while none come (queued, or silent); returns the final
     * snapshot. IOException (a write failed, or {@code client} went away: checked every
     * {@link TokenFeed#CHECK_MILLIS} while waiting) cancels the job.
     */
    public JobService.Snapshot stream(Job job, TokenFeed.Listener listener, TokenFeed.KeepAlive keepAlive,
                                      Client client) throws IOException {
        try {
            feed.follow(job.id, -1, TokenFeed.Listener.withKeepAlive(listener, keepAlive, client));
        } catch (IOException e) {
            cancelQuietly(job);
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancelQuietly(job);
            throw new InterruptedIOException("stream of job " + job.id + " interrupted");
        }
        return jobs.snapshot(job.id, own(job));
    }

    /** What a streamed answer writes to its response, from its first byte to its last; throws when the client is gone. */
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    /**
     * A streamed answer: a write that fails anywhere in it cancels the job — also one before the first token. From
     * now until the body has been written, a guard checks the client every {@link TokenFeed#CHECK_MILLIS}: a client
     * that leaves before the framework starts writing the body (which then may never be called) cancels the job too.
     */
    public StreamingOutput answer(Job job, Client client, Body body) {
        AtomicBoolean written = new AtomicBoolean();
        Thread.ofVirtual().name("client-guard-" + job.id).start(() -> {
            try {
                while (!written.get()) {
                    Thread.sleep(TokenFeed.CHECK_MILLIS);
                    if (written.get()) return;
                    client.check();
                }
            } catch (IOException e) {
                cancelQuietly(job);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return out -> {
            try {
                body.write(out);
            } catch (IOException e) {
                cancelQuietly(job);
                throw e;
            } finally {
                written.set(true);
            }
        };
    }

    /** The tenant that created the job (and so may see and cancel it). */
    private static Tenant own(Job job) {
        return new Tenant(job.owner, false);
    }

    /** Cancels the job if it is still queued or running (a sibling of a failed request's job). */
    public void cancel(Job job) {
        cancelQuietly(job);
    }

    private void cancelQuietly(Job job) {
        long id = job.id;
        try {
            jobs.cancel(id, own(job));
            LOG.debugf("job %d cancelled: its client went away", id);
        } catch (RuntimeException e) {
            // already ended: nothing to cancel
        }
    }

    /** 500 in the API's error shape for a job that failed. */
    public static ApiException failed(Job job) {
        return new ApiException(500, "server_error", null, "job_failed",
                "job " + job.id + " failed: " + (job.error == null ? "unknown error" : job.error));
    }
}
