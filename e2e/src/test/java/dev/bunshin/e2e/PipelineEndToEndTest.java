package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.ActivationSerializer;
import dev.bunshin.db.StagePlan;
import dev.bunshin.worker.StageWorker;
import dev.bunshin.protocol.events.Event;
import dev.bunshin.protocol.events.EventCodec;
import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.protocol.events.JobEvent;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Jobs through the whole Kafka pipeline on stories260K (5 layers), greedy: real broker, real PostgreSQL, the
 * scheduler and N stage workers. Each job's tokens and text must equal the engine's in-process output.
 */
class PipelineEndToEndTest {

    private static final String[] PROMPTS = {
            "Once upon a time",
            "The little dog",
            "Lily and Tom went to the park. They saw a big tree and",
            "One day, a girl named Sue found a shiny red ball in the garden. She wanted to show it to her mom, so",
            "Tim",
            "The sun was hot and the sky was blue. A small bird sat on a branch and sang a happy song. Then",
    };
    private static final int MAX_TOKENS = 48;
    /** Small records force chunked prefills: 44 B header + 1 KiB headroom + 16 positions of 64 floats. */
    private static final int SMALL_RECORDS = 44 + 1024 + 16 * 64 * 4;

        /** Alternatives asked per job; null: none (the tail computes nothing and stores none). */
    private static final Integer[] LOGPROBS_K = {5, 20, null};
    private static final int LOGPROBS_MAX_TOKENS = 24;
    private static final double LOGPROBS_TOLERANCE = 1e-4;

    private static Infra infra;
    private static Path model;
    private static GgufFile file;
    private static Tokenizer tokenizer;
    private static Jobs jobs;
    private static int nextModel;

    @BeforeAll
    static void start() throws Exception {
        model = TestModels.stories260K();
        file = GgufFile.open(model);
        tokenizer = Tokenizer.fromGguf(file);
        infra = Infra.get();
        jobs = new Jobs(infra.db);
    }

    @AfterAll
    static void stop() {
        if (file != null) file.close();
    }

    /** A fresh model id per pipeline: its own topics, plans and jobs on the shared broker and database. */
    private static synchronized String freshModelId(String what) {
        return "stories260K-" + what + "-" + (nextModel++) + "-" + System.nanoTime() % 100000;
    }

    @ParameterizedTest(name = "{0} stage(s)")
    @ValueSource(ints = {1, 2, 3})
    void concurrentJobsMatchTheInProcessEngine(int stages) throws Exception {
        String id = freshModelId(stages + "stages");
        try (Pipeline p = new Pipeline(infra, id, model, stages, SMALL_RECORDS)) {
            StagePlan plan = p.awaitPlan(stages, Duration.ofSeconds(60));
            assertEquals(0, plan.stages().getFirst().layerStart());
            assertEquals(Reference.nLayers(file), plan.stages().getLast().layerEnd());

            List<Long> ids = new ArrayList<>();
            Map<Long, Reference.Output> expected = new HashMap<>();
            List<int[]> prompts = new ArrayList<>();
            for (String prompt : PROMPTS) prompts.add(tokenizer.encode(prompt, true, false));
            long t0 = System.nanoTime();
            for (int i = 0; i < PROMPTS.length; i++) ids.add(jobs.insert(id, PROMPTS[i], prompts.get(i), MAX_TOKENS));
            jobs.awaitDone(ids, Duration.ofSeconds(120));
            double seconds = (System.nanoTime() - t0) / 1e9;
            int generated = 0;
            for (long job : ids) generated += jobs.row(job).tokenCount();
            System.out.printf("e2e %d stage(s): %d jobs, %d tokens in %.2f s (%.0f tokens/s, busy shared machine)%n",
                    stages, ids.size(), generated, seconds, generated / seconds);
            for (int i = 0; i < PROMPTS.length; i++) {
                expected.put(ids.get(i), Reference.greedy(file, tokenizer, prompts.get(i), MAX_TOKENS));
            }
            assertStopStringJobEndsBeforeTheStop(id);

            for (Jobs.Row row : jobs.awaitDone(ids, Duration.ofSeconds(120))) {
                Reference.Output want = expected.get(row.id());
                assertEquals("completed", row.status(), row.toString());
                assertEquals(want.finishReason(), row.finishReason(), row.toString());
                assertEquals(want.text(), row.text(), "job " + row.id());
                assertTrue(row.started() && row.firstToken() && row.finished(), row.toString());
                List<Jobs.Token> toks = jobs.tokens(row.id());
                assertEquals(want.tokens(), toks.stream().map(Jobs.Token::tokenId).toList(), "job " + row.id());
                assertEquals(toks.size(), row.tokenCount());
                StringBuilder concat = new StringBuilder();
                for (int i = 0; i < toks.size(); i++) {
                    assertEquals(i, toks.get(i).position());
                    concat.append(toks.get(i).text());
                }
                assertEquals(row.text(), concat.toString(), "job_tokens texts concatenate to the job's text");
            }
            awaitAllFreed(p);
            assertNoWorkerFailed(p);
        }
    }

    /**
     * Streams follow jobs by the events the tail publishes after each commit: every token a job stored comes in an
     * event, in order, once (an event repeated by a retried transaction may repeat positions, never change them),
     * with the same id and text as its row, and the job's last event says how it ended.
     */
    @Test
    void theTailPublishesEveryCommittedTokenAsAnEvent() throws Exception {
        String id = freshModelId("events");
        try (KafkaConsumer<String, byte[]> consumer = eventsConsumer();
             Pipeline p = new Pipeline(infra, id, model, 2, SMALL_RECORDS)) {
            p.awaitPlan(2, Duration.ofSeconds(60));
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(jobs.insert(id, PROMPTS[i], tokenizer.encode(PROMPTS[i], true, false), 24));
            }
            Map<Long, List<JobEvent>> seen = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (System.nanoTime() < deadline && !ids.stream().allMatch(j -> seen.containsKey(j)
                    && seen.get(j).getLast().ends())) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    for (Event e : EventCodec.decode(r.value())) {
                        if (e instanceof JobEvent j && ids.contains(j.job())) {
                            seen.computeIfAbsent(j.job(), k -> new ArrayList<>()).add(j);
                        }
                    }
                }
            }
            for (Jobs.Row row : jobs.awaitDone(ids, Duration.ofSeconds(30))) {
                List<JobEvent> events = seen.get(row.id());
                assertNotNull(events, "events of job " + row.id());
                List<Jobs.Token> stored = jobs.tokens(row.id());
                int next = 0;
                for (JobEvent e : events) {
                    for (JobEvent.Token t : e.tokens()) {
                        assertTrue(t.position() <= next, "job " + row.id() + ": event skipped to " + t.position());
                        Jobs.Token want = stored.get(t.position());
                        assertEquals(want.tokenId(), t.tokenId(), "job " + row.id() + " position " + t.position());
                        assertEquals(want.text(), t.text(), "job " + row.id() + " position " + t.position());
                        next = Math.max(next, t.position() + 1);
                    }
                }
                assertEquals(stored.size(), next, "every stored token of job " + row.id() + " came in an event");
                JobEvent last = events.getLast();
                assertEquals("completed", last.status(), "job " + row.id());
                assertEquals(row.finishReason(), last.finishReason(), "job " + row.id());
            }
            assertNoWorkerFailed(p);
        }
    }

    @Test
    void theSchedulerActsOnDatabaseNotificationsNotOnlyOnItsTick() throws Exception {
        String id = freshModelId("wake");
        Duration tick = Duration.ofSeconds(60);
        try (Pipeline p = new Pipeline(infra, id, model, 1, SMALL_RECORDS, 0, 32, tick)) {
            // Planning needs the worker's registration and then its "loaded" mark; dispatch needs the job's insert:
            // three ticks, each woken by a notification (migration V12) instead of waiting a minute.
            long t0 = System.nanoTime();
            p.awaitPlan(1, Duration.ofSeconds(30));
            int[] prompt = tokenizer.encode(PROMPTS[1], true, false);
            long job = jobs.insert(id, PROMPTS[1], prompt, 4);
            jobs.awaitDone(List.of(job), Duration.ofSeconds(30));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("completed", jobs.row(job).status());
            assertTrue(ms < tick.toMillis() / 2, "plan and job took " + ms + " ms with a " + tick.toSeconds() + " s tick");
        }
    }

    @Test
    void cancelledJobStopsAndEveryStageFreesIt() throws Exception {
        String id = freshModelId("cancel");
        try (Pipeline p = new Pipeline(infra, id, model, 2, SMALL_RECORDS)) {
            p.awaitPlan(2, Duration.ofSeconds(60));
            int[] prompt = tokenizer.encode(PROMPTS[0], true, false);
            long job = jobs.insert(id, PROMPTS[0], prompt, 1500);
            jobs.awaitTokens(job, 3, Duration.ofSeconds(60));
            jobs.cancel(job);
            int atCancel = jobs.row(job).tokenCount();
            awaitAllFreed(p);
            int settled = jobs.row(job).tokenCount();
            Thread.sleep(500);
            Jobs.Row row = jobs.row(job);
            assertEquals("cancelled", row.status());
            assertEquals("cancelled", row.finishReason());
            assertEquals(settled, row.tokenCount(), "no tokens after the stages freed the job");
            assertEquals(settled, jobs.tokens(job).size());
            // At most the step in flight when the cancel landed is written.
            assertTrue(settled <= atCancel + 1, "tokens at cancel " + atCancel + ", after " + settled);
            Reference.Output ref = Reference.greedy(file, tokenizer, prompt, 100);
            assertEquals(100, ref.tokens().size(), "the job would have run past 100 tokens");
            assertTrue(settled < 90, "cancelled after " + settled + " tokens");
            assertNoWorkerFailed(p);
        }
    }

    @Test
    void redeliveredRecordsDoNotDuplicateTokensAndABadRecordFailsOnlyItsJob() throws Exception {
        String id = freshModelId("dup");
        try (Pipeline p = new Pipeline(infra, id, model, 2, SMALL_RECORDS)) {
            StagePlan plan = p.awaitPlan(2, Duration.ofSeconds(60));
            String prompt = PROMPTS[2];
            int[] tokens = tokenizer.encode(prompt, true, false);
            Reference.Output want = Reference.greedy(file, tokenizer, tokens, MAX_TOKENS);
            long job = jobs.insert(id, prompt, tokens, MAX_TOKENS);
            jobs.awaitDone(List.of(job), Duration.ofSeconds(60));
            assertEquals(want.tokens(), jobs.tokens(job).stream().map(Jobs.Token::tokenId).toList());

            // Produce, by hand, the job's whole prefill again and two of its decode steps, twice each, as a
            // redelivery after a crash would: the stored tokens must not change.
            try (KafkaProducer<Long, ActivationRecord> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafka.bootstrapServers()),
                    new LongSerializer(), new ActivationSerializer())) {
                String topic = plan.stages().getFirst().topic();
                int chunk = 16; // as the scheduler chunks under SMALL_RECORDS
                int chunks = (tokens.length + chunk - 1) / chunk;
                for (int copy = 0; copy < 2; copy++) {
                    for (int k = 0; k < chunks; k++) {
                        int[] part = java.util.Arrays.copyOfRange(tokens, k * chunk, Math.min(tokens.length, (k + 1) * chunk));
                        producer.send(new ProducerRecord<>(topic, job,
                                ActivationRecord.prefill(job, plan.epoch(), k * chunk, k, chunks, part)));
                    }
                    producer.send(new ProducerRecord<>(topic, job,
                            ActivationRecord.decode(job, plan.epoch(), tokens.length, want.tokens().get(0))));
                    producer.send(new ProducerRecord<>(topic, job,
                            ActivationRecord.decode(job, plan.epoch(), tokens.length + 5, want.tokens().get(5))));
                }
                producer.flush();
            }
            Thread.sleep(1500);
            awaitAllFreed(p);
            Jobs.Row row = jobs.row(job);
            assertEquals("completed", row.status());
            assertEquals(want.text(), row.text());
            List<Jobs.Token> toks = jobs.tokens(job);
            assertEquals(want.tokens(), toks.stream().map(Jobs.Token::tokenId).toList());
            assertEquals(want.tokens().size(), row.tokenCount());

            // A record that cannot be decoded fails its job (jobs.error), not the worker.
            long bad = jobs.insert(id, PROMPTS[0], tokenizer.encode(PROMPTS[0], true, false), 1500);
            jobs.awaitTokens(bad, 2, Duration.ofSeconds(60));
            try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafka.bootstrapServers()),
                    new LongSerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(plan.stages().getFirst().topic(), bad, new byte[]{1, 2, 3, 4, 5})).get();
            }
            Jobs.Row failed = jobs.awaitDone(List.of(bad), Duration.ofSeconds(30)).getFirst();
            assertEquals("failed", failed.status());
            assertEquals("error", failed.finishReason());
            assertTrue(failed.error().contains("bad record"), failed.error());
            awaitAllFreed(p);
            assertNoWorkerFailed(p);
            assertEquals(plan.epoch(), p.scheduler.currentPlan().epoch(), "no re-plan happened");
        }
    }

    @Test
    void contextEndStopsWithLengthStopTokenStopsAndATooLongPromptFails() throws Exception {
        String id = freshModelId("ctx");
        int context = 32;
        try (Pipeline p = new Pipeline(infra, id, model, 2, SMALL_RECORDS, context, 32)) {
            p.awaitPlan(2, Duration.ofSeconds(60));
            int[] prompt = tokenizer.encode(PROMPTS[0], true, false);
            long job = jobs.insert(id, PROMPTS[0], prompt, 1000);
            int[] tooLong = tokenizer.encode(PROMPTS[5], true, false);
            assertTrue(tooLong.length > context);
            long refused = jobs.insert(id, PROMPTS[5], tooLong, 10);
            // A job ended by a stop token (the 6th token of the reference output): its text excludes it.
            Reference.Output ref = Reference.greedy(file, tokenizer, prompt, 10);
            int stopToken = ref.tokens().get(5);
            int firstAt = ref.tokens().indexOf(stopToken);
            long stopped = jobs.insert(id, PROMPTS[0], prompt, 100, new String[0], new int[]{stopToken});
            List<Jobs.Row> rows = jobs.awaitDone(List.of(job, refused, stopped), Duration.ofSeconds(60));
            assertEquals("completed", rows.get(2).status());
            assertEquals("stop", rows.get(2).finishReason());
            assertEquals(ref.tokens().subList(0, firstAt + 1),
                    jobs.tokens(stopped).stream().map(Jobs.Token::tokenId).toList());
            assertEquals(Reference.greedy(file, tokenizer, prompt, firstAt).text(), rows.get(2).text(),
                    "text before the stop token");

            // The last token is sampled at position context-1 and could only be fed at position context: stop.
            int generated = context - prompt.length + 1;
            Reference.Output want = Reference.greedy(file, tokenizer, prompt, generated);
            assertEquals("completed", rows.get(0).status());
            assertEquals("length", rows.get(0).finishReason());
            assertEquals(want.tokens(), jobs.tokens(job).stream().map(Jobs.Token::tokenId).toList());
            assertEquals(want.text(), rows.get(0).text());

            assertEquals("failed", rows.get(1).status());
            assertEquals("error", rows.get(1).finishReason());
            assertTrue(rows.get(1).error().contains("does not fit the context of " + context), rows.get(1).error());
            awaitAllFreed(p);
            assertNoWorkerFailed(p);
        }
    }

    @Test
    void noMoreThanMaxRunningJobsRunAtOnce() throws Exception {
        String id = freshModelId("maxrun");
        try (Pipeline p = new Pipeline(infra, id, model, 1, SMALL_RECORDS, 0, 2)) {
            p.awaitPlan(1, Duration.ofSeconds(60));
            List<Long> ids = new ArrayList<>();
            for (String prompt : PROMPTS) ids.add(jobs.insert(id, prompt, tokenizer.encode(prompt, true, false), 24));
            int most = 0;
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < end) {
                int running = 0, done = 0;
                for (long job : ids) {
                    String status = jobs.row(job).status();
                    if (status.equals("running")) running++;
                    if (status.equals("completed")) done++;
                }
                most = Math.max(most, running);
                if (done == ids.size()) break;
                Thread.sleep(5);
            }
            assertEquals(2, most, "at most (and, with 6 queued, exactly) max-running=2 jobs ran at once");
            for (Jobs.Row row : jobs.awaitDone(ids, Duration.ofSeconds(5))) assertEquals("completed", row.status());
            assertNoWorkerFailed(p);
        }
    }

    @Test
    void runningJobsSurviveLosingAWorkerAndAJoiningWorkerIsPlannedIn() throws Exception {
        String id = freshModelId("replan");
        try (Pipeline p = new Pipeline(infra, id, model, 2, SMALL_RECORDS)) {
            StagePlan first = p.awaitPlan(2, Duration.ofSeconds(60));
            int maxTokens = 200;
            List<Long> ids = new ArrayList<>();
            Map<Long, Reference.Output> expected = new HashMap<>();
            for (String prompt : List.of(PROMPTS[0], PROMPTS[3])) {
                int[] tokens = tokenizer.encode(prompt, true, false);
                long job = jobs.insert(id, prompt, tokens, maxTokens);
                ids.add(job);
                expected.put(job, Reference.greedy(file, tokenizer, tokens, maxTokens));
            }
            jobs.awaitTokens(ids.getFirst(), 3, Duration.ofSeconds(60));
            // The second stage's worker goes away: the scheduler re-plans on the survivor and re-prefills.
            StageWorker gone = p.worker(first.stages().get(1).workerId());
            gone.close();
            StagePlan second = p.awaitPlan(1, Duration.ofSeconds(60));
            assertTrue(second.epoch() > first.epoch());
            assertStopStringJobEndsBeforeTheStop(id);

            for (Jobs.Row row : jobs.awaitDone(ids, Duration.ofSeconds(120))) {
                Reference.Output want = expected.get(row.id());
                assertEquals("completed", row.status(), row.toString());
                assertEquals(want.text(), row.text(), "job " + row.id());
                assertEquals(want.tokens(), jobs.tokens(row.id()).stream().map(Jobs.Token::tokenId).toList());
            }

            // A worker joins: the scheduler re-plans on two stages again, and jobs still match.
            p.addWorker("joiner");
            StagePlan third = p.awaitPlan(2, Duration.ofSeconds(60));
            assertTrue(third.epoch() > second.epoch());
            int[] tokens = tokenizer.encode(PROMPTS[2], true, false);
            long job = jobs.insert(id, PROMPTS[2], tokens, MAX_TOKENS);
            Jobs.Row row = jobs.awaitDone(List.of(job), Duration.ofSeconds(60)).getFirst();
            assertEquals(Reference.greedy(file, tokenizer, tokens, MAX_TOKENS).text(), row.text());
            for (StageWorker w : p.workers) {
                if (w != gone && w.failure() != null) throw new AssertionError("worker " + w.id() + " stopped", w.failure());
            }
        }
    }

    /**
     * One more job with the stop string ".": it completes with finish reason stop, its text ends before the first
     * '.' of the reference text, and its tokens are a prefix of the reference tokens.
     */
    private static void assertStopStringJobEndsBeforeTheStop(String modelId) throws Exception {
        int[] stopPrompt = tokenizer.encode(PROMPTS[0], true, false);
        Reference.Output full = Reference.greedy(file, tokenizer, stopPrompt, MAX_TOKENS);
        int cut = full.text().indexOf('.');
        assertTrue(cut > 0, "reference text has a '.': " + full.text());
        long stopJob = jobs.insert(modelId, PROMPTS[0], stopPrompt, MAX_TOKENS, new String[]{"."});

        Jobs.Row stopped = jobs.awaitDone(List.of(stopJob), Duration.ofSeconds(120)).getFirst();
        assertEquals("completed", stopped.status());
        assertEquals("stop", stopped.finishReason());
        assertEquals(full.text().substring(0, cut), stopped.text());
        List<Integer> stopTokens = jobs.tokens(stopJob).stream().map(Jobs.Token::tokenId).toList();
        assertEquals(full.tokens().subList(0, stopTokens.size()), stopTokens);
        assertEquals(stopped.text(), String.join("", jobs.tokens(stopJob).stream().map(Jobs.Token::text).toList()));
    }

    @Test
    void anIdleSchedulerTicksOnlyOnItsTimer() throws Exception {
        String id = freshModelId("idle");
        try (Pipeline p = new Pipeline(infra, id, model, 2, SMALL_RECORDS, 0, 32, Duration.ofMillis(100))) {
            p.awaitPlan(2, Duration.ofSeconds(60));
            Thread.sleep(500); // the plan's own notifications (workers loading it) are over
            long before = p.scheduler.ticks();
            Thread.sleep(2000);
            long ticks = p.scheduler.ticks() - before;
            // ≈ 20 on its 100 ms timer, plus a few for other tests' notifications on the shared database. A tick
            // whose own statements NOTIFY the scheduler wakes the next one at once: hundreds per second.
            assertTrue(ticks >= 5 && ticks <= 100, "an idle scheduler ticked " + ticks + " times in 2 s");
            assertNoWorkerFailed(p);
        }
    }

    /** The reference: log-softmax in double over the whole vocabulary, by definition (temperature 1, no penalty). */
    private static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double z = 0;
        for (float l : logits) z += Math.exp(l - max);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = logits[i] - max - Math.log(z);
        return out;
    }

    /**
     * Greedy jobs that ask for logprobs, through two stages: every stored token's logprob is the largest among its
     * alternatives and equals the log-softmax of the in-process engine's logits for that step, the alternatives are
     * the k most likely tokens in descending order, and the tail's events carry the same logprobs. A job that asked
     * for none gets none.
     */
    @Test
    void greedyJobsGetTheLogprobsOfTheEnginesDistributionInRowsAndEvents() throws Exception {
        String id = freshModelId("logprobs");
        try (KafkaConsumer<String, byte[]> consumer = eventsConsumer();
             Pipeline p = new Pipeline(infra, id, model, 2, SMALL_RECORDS)) {
            p.awaitPlan(2, Duration.ofSeconds(60));
            List<Long> ids = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < LOGPROBS_K.length; i++) {
                prompts.add(tokenizer.encode(PROMPTS[i], true, false));
                ids.add(jobs.insert(id, PROMPTS[i], prompts.get(i), LOGPROBS_MAX_TOKENS, new String[0], new int[0],
                        LOGPROBS_K[i]));
            }
            Map<Long, Map<Integer, JobEvent.Token>> events = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            int ended = 0;
            while (System.nanoTime() < deadline && ended < ids.size()) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    for (Event e : EventCodec.decode(r.value())) {
                        if (e instanceof JobEvent j && ids.contains(j.job())) {
                            for (JobEvent.Token t : j.tokens()) {
                                events.computeIfAbsent(j.job(), k -> new HashMap<>()).put(t.position(), t);
                            }
                            if (j.ends()) ended++;
                        }
                    }
                }
            }
            List<Jobs.Row> rows = jobs.awaitDone(ids, Duration.ofSeconds(60));
            for (int i = 0; i < ids.size(); i++) {
                long job = ids.get(i);
                assertEquals("completed", rows.get(i).status(), rows.get(i).toString());
                Reference.Output want = Reference.greedy(file, tokenizer, prompts.get(i), LOGPROBS_MAX_TOKENS);
                List<Jobs.Logprobs> stored = jobs.logprobs(job);
                assertEquals(want.tokens().size(), stored.size(), "job " + job);
                for (int g = 0; g < stored.size(); g++) {
                    Jobs.Logprobs lp = stored.get(g);
                    JobEvent.Token event = events.getOrDefault(job, Map.of()).get(g);
                    assertNotNull(event, "job " + job + " token " + g + " came in an event");
                    if (LOGPROBS_K[i] == null) {
                        assertNull(lp, "job " + job + " asked for no logprobs");
                        assertNull(event.logprobs());
                        continue;
                    }
                    String at = "job " + job + " token " + g;
                    assertNotNull(lp, at);
                    assertEquals(want.tokens().get(g), lp.tokenId(), at);
                    double[] ref = logSoftmax(want.logits().get(g));
                    assertEquals(ref[lp.tokenId()], lp.logprob(), LOGPROBS_TOLERANCE, at);
                    assertEquals(LOGPROBS_K[i], lp.topIds().length, at);
                    // greedy: the chosen token is the most likely, and the list falls from its logprob
                    assertEquals(lp.tokenId(), lp.topIds()[0], at);
                    assertEquals(lp.logprob(), lp.topLogprobs()[0], at);
                    for (int k = 0; k < LOGPROBS_K[i]; k++) {
                        assertTrue(lp.logprob() >= lp.topLogprobs()[k], at);
                        if (k > 0) assertTrue(lp.topLogprobs()[k - 1] >= lp.topLogprobs()[k], at + " sorted");
                        assertEquals(ref[lp.topIds()[k]], lp.topLogprobs()[k], LOGPROBS_TOLERANCE,
                                at + " alternative " + k);
                    }
                    // the k-th alternative is at least as likely as every token left out
                    double[] sorted = ref.clone();
                    Arrays.sort(sorted);
                    int k = LOGPROBS_K[i];
                    assertEquals(sorted[sorted.length - k], lp.topLogprobs()[k - 1], LOGPROBS_TOLERANCE, at);
                    assertNotNull(event.logprobs(), at + " event");
                    assertEquals(lp.logprob(), event.logprobs().logprob(), at + " event");
                    assertArrayEquals(lp.topIds(), event.logprobs().topIds(), at + " event");
                    assertArrayEquals(lp.topLogprobs(), event.logprobs().topLogprobs(), at + " event");
                }
            }
            assertNoWorkerFailed(p);
        }
    }
    /** A consumer of the events topic from now on, already assigned its partitions. */
    private static KafkaConsumer<String, byte[]> eventsConsumer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafka.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "e2e-events-" + System.nanoTime());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new ByteArrayDeserializer());
        consumer.subscribe(List.of(EventPublisher.TOPIC));
        for (int i = 0; i < 300 && consumer.assignment().isEmpty(); i++) consumer.poll(Duration.ofMillis(100));
        assertFalse(consumer.assignment().isEmpty(), "subscribed to " + EventPublisher.TOPIC);
        // "latest" is looked up lazily, at a later poll: resolve it now, before any job runs, or the first events of
        // a job published in between are skipped (seen once: "event skipped to 1").
        consumer.assignment().forEach(consumer::position);
        return consumer;
    }

    private static void assertNoWorkerFailed(Pipeline p) {
        for (StageWorker w : p.workers) {
            if (w.failure() != null) throw new AssertionError("worker " + w.id() + " stopped", w.failure());
        }
    }

    /** Every live worker ends up holding no job state (KV caches freed). */
    private static void awaitAllFreed(Pipeline p) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            int held = 0;
            StringBuilder who = new StringBuilder();
            for (StageWorker w : p.workers) {
                if (w.stage() == null) continue;
                held += w.sequenceCount();
                who.append(w.id()).append('=').append(w.sequenceCount()).append(' ');
            }
            if (held == 0) return;
            if (System.nanoTime() > end) fail("stages still hold job state: " + who);
            Thread.sleep(20);
        }
    }
}
