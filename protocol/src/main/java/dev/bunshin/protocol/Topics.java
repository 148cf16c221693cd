package dev.bunshin.protocol;

/** Topic and consumer group names. One topic per stage per model; stage 0's topic also takes the tail's DECODEs. */
public final class Topics {

    private Topics() {}

    /** {@code bunshin.<modelId>.stage-<k>}, with characters Kafka refuses in a topic name replaced by '_'. */
    public static String stage(String modelId, int stage) {
        if (stage < 0) throw new IllegalArgumentException("stage < 0: " + stage);
        return "bunshin." + sanitize(modelId) + ".stage-" + stage;
    }

    /** The consumer group of the worker that runs {@code stage}: offsets survive a worker being replaced. */
    public static String stageGroup(String modelId, int stage) {
        return stage(modelId, stage) + ".workers";
    }

    static String sanitize(String modelId) {
        if (modelId == null || modelId.isBlank()) throw new IllegalArgumentException("blank model id");
        String s = modelId.replaceAll("[^a-zA-Z0-9._-]", "_");
        // Kafka's limit is 249 characters; leave room for the prefix and suffix.
        return s.length() > 200 ? s.substring(0, 200) : s;
    }
}
