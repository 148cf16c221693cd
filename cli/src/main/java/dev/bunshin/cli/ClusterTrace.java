package dev.bunshin.cli;

import dev.bunshin.protocol.ActivationCodec;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.RecordType;
import dev.bunshin.protocol.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where a decode step's time goes, read back from the stage topics after a run. Every record carries the time its
 * producer sent it (Kafka's CreateTime, ms), so for one job's step at position p:
 * {@code hop k = sent(stage k+1 topic, p) − sent(stage k topic, p)} is stage k's share (broker append, fetch,
 * waiting behind other jobs, engine, send), and {@code tail = sent(stage 0 topic, next p) − sent(last stage topic,
 * p)} is the last stage's (fetch, wait, engine, sampling, the token's PostgreSQL transaction, send).
 */
final class ClusterTrace {
    private ClusterTrace() {}

    /**
     * Medians over the decode steps of some jobs.
     *
     * @param hopMs  per stage: median ms from the record sent to it to its output sent (the last: back to stage 0)
     * @param hopP90 the same, 90th percentile
     * @param stepMs median ms of one whole step (stage 0's record to the next one)
     */
    record Hops(int steps, double[] hopMs, double[] hopP90, double stepMs) {}

    /** Stage topic → (job, position) → send time in ms, for every stage of the model. */
    static List<Map<Long, Map<Integer, Long>>> read(String bootstrap, String modelId, int stages) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<Map<Long, Map<Integer, Long>>> sent = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            for (int k = 0; k < stages; k++) {
                Map<Long, Map<Integer, Long>> byJob = new HashMap<>();
                List<TopicPartition> parts = new ArrayList<>();
                for (PartitionInfo pi : c.partitionsFor(Topics.stage(modelId, k), Duration.ofSeconds(10))) {
                    parts.add(new TopicPartition(pi.topic(), pi.partition()));
                }
                c.assign(parts);
                c.seekToBeginning(parts);
                Map<TopicPartition, Long> end = c.endOffsets(parts);
                Set<TopicPartition> open = new HashSet<>(parts);
                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                while (!open.isEmpty() && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> cr : c.poll(Duration.ofMillis(200))) {
                        ActivationRecord r = ActivationCodec.decode(cr.value());
                        if (r.type() == RecordType.FREE || !r.samples()) continue;
                        // The position whose logits this record yields: a prefill's last, a decode's own.
                        byJob.computeIfAbsent(r.jobId(), j -> new TreeMap<>()).putIfAbsent(r.pos() + r.nTokens() - 1, cr.timestamp());
                    }
                    open.removeIf(tp -> c.position(tp) >= end.get(tp));
                }
                sent.add(byJob);
            }
        }
        return sent;
    }

    /** The decode steps of {@code jobs} in {@code sent} (prefill excluded: TTFT covers it). */
    static Hops hops(List<Map<Long, Map<Integer, Long>>> sent, Collection<Long> jobs) {
        int stages = sent.size();
        List<List<Double>> hop = new ArrayList<>();
        for (int k = 0; k < stages; k++) hop.add(new ArrayList<>());
        List<Double> step = new ArrayList<>();
        for (long job : jobs) {
            TreeMap<Integer, Long> first = (TreeMap<Integer, Long>) sent.getFirst().get(job);
            if (first == null) continue;
            boolean prefill = true;
            for (Map.Entry<Integer, Long> e : first.entrySet()) {
                if (prefill) { // the first entry is the prompt's last position
                    prefill = false;
                    continue;
                }
                Map.Entry<Integer, Long> next = first.higherEntry(e.getKey());
                long[] t = new long[stages + 1];
                t[0] = e.getValue();
                boolean complete = next != null;
                for (int k = 1; k < stages && complete; k++) {
                    Long tk = sent.get(k).getOrDefault(job, Map.of()).get(e.getKey());
                    complete = tk != null;
                    if (complete) t[k] = tk;
                }
                if (!complete) continue;
                t[stages] = next.getValue();
                for (int k = 0; k < stages; k++) hop.get(k).add((double) (t[k + 1] - t[k]));
                step.add((double) (t[stages] - t[0]));
            }
        }
        double[] med = new double[stages];
        double[] p90 = new double[stages];
        for (int k = 0; k < stages; k++) {
            med[k] = BenchCommand.median(hop.get(k));
            p90[k] = ClusterBench.percentile(hop.get(k), 90);
        }
        return new Hops(step.size(), med, p90, BenchCommand.median(step));
    }
}
