package dev.bunshin.submitter;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import java.util.Map;

/**
 * The same official npm clients against a submitter that requires an API key ({@link ApiKeysTest.WithKeys}): each
 * is given the key the way its users give it (OpenAI's {@code apiKey}, Ollama's {@code headers}).
 */
@QuarkusTest
@TestProfile(ApiKeysTest.WithKeys.class)
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class NodeClientsWithApiKeyTest extends NodeClientsTest {

    @Override
    Map<String, String> clientEnv(String url) {
        return Map.of("BUNSHIN_URL", url, "BUNSHIN_API_KEY", "second-key");
    }
}
