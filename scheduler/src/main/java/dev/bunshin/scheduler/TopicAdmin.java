package dev.bunshin.scheduler;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Creates the per-stage topics a plan needs. Existing topics are left as they are. */
final class TopicAdmin implements AutoCloseable {

    private final Admin admin;
    private final int partitions;
    private final short replicationFactor;
    private final int maxRecordBytes;

    TopicAdmin(String bootstrapServers, int partitions, short replicationFactor, int maxRecordBytes) {
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.maxRecordBytes = maxRecordBytes;
    }

    void ensure(List<String> topics) throws Exception {
        Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        List<NewTopic> create = new ArrayList<>();
        for (String t : topics) {
            if (existing.contains(t)) continue;
            // Partitions spread jobs (the record key) so several workers could share a stage later;
            // max.message.bytes lets the largest prefill chunk through (see Chunking), plus 64 KiB for the
            // record batch framing around it.
            create.add(new NewTopic(t, Optional.of(partitions),
                    replicationFactor > 0 ? Optional.of(replicationFactor) : Optional.empty())
                    .configs(Map.of("max.message.bytes", Integer.toString(maxRecordBytes + 65536))));
        }
        if (create.isEmpty()) return;
        try {
            admin.createTopics(create).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
    }

    @Override
    public void close() {
        admin.close();
    }
}
