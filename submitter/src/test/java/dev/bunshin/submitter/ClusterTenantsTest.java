package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With API keys, {@code /v1/cluster} needs one like the rest of the API; a tenant's snapshot lists only its own jobs
 * (an admin's, everyone's); the dashboard page itself loads without a key, so that it can ask for one.
 */
@QuarkusTest
@TestProfile(TenantsTest.TwoTenantsAndAnAdmin.class)
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class ClusterTenantsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/")
    URI base;

    private HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        if (body != null) b.header("content-type", "application/json");
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<Long> recentJobs(String key) throws Exception {
        HttpResponse<String> r = send(key, "GET", "/v1/cluster?jobs=200", null);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode c = JSON.readTree(r.body());
        assertTrue(c.get("workers").isArray() && c.has("plan") && c.has("throughput"), "cluster parts for any key");
        List<Long> ids = new ArrayList<>();
        c.at("/jobs/recent").forEach(j -> ids.add(j.get("id").asLong()));
        return ids;
    }

    @Test
    void aKeyIsNeededAndEachTenantSeesOnlyItsOwnJobs() throws Exception {
        HttpResponse<String> none = send(null, "GET", "/v1/cluster", null);
        assertEquals(401, none.statusCode());
        assertEquals("authorization", JSON.readTree(none.body()).at("/error/param").asText());
        assertEquals(401, send("wrong", "GET", "/v1/cluster/events", null).statusCode());

        long a = JSON.readTree(send(TenantsTest.A, "POST", "/v1/jobs", "{\"prompt\":\"Once\",\"max_tokens\":2}").body())
                .get("id").asLong();
        long b = JSON.readTree(send(TenantsTest.B, "POST", "/v1/jobs", "{\"prompt\":\"Lily\",\"max_tokens\":2}").body())
                .get("id").asLong();
        assertTrue(recentJobs(TenantsTest.A).contains(a));
        assertFalse(recentJobs(TenantsTest.A).contains(b), "A does not see B's job");
        assertTrue(recentJobs(TenantsTest.B).contains(b));
        assertFalse(recentJobs(TenantsTest.B).contains(a));
        assertTrue(recentJobs(TenantsTest.ADMIN).containsAll(List.of(a, b)), "an admin key sees everyone's");
    }

    @Test
    void theDashboardLoadsWithoutAKey() throws Exception {
        HttpResponse<String> page = send(null, "GET", "/ui/", null);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("id=\"key-form\""));
        assertEquals(200, send(null, "GET", "/ui/dashboard.js", null).statusCode());
        assertEquals(302, send(null, "GET", "/", null).statusCode());
    }
}
