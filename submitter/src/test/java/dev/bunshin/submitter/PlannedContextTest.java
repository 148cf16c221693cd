package dev.bunshin.submitter;

import dev.bunshin.db.PlanTable;
import dev.bunshin.db.StagePlan;
import dev.bunshin.db.WorkersTable;
import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/**
 * The context length a job must fit is the stage plan's (the scheduler derives it from bunshin.context-length or
 * the model), so a prompt the pipeline would fail is refused at the door with 400, not accepted and failed later.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class PlannedContextTest {

    private static final String MODEL = "stories260K"; // trained context 512

    @Test
    void aPromptOverThePlansContextIsRefusedWith400() throws Exception {
        // 20 tokens after BOS: fits the model's 512, not a plan of 16.
        String prompt = "Once upon a time ".repeat(5).trim();
        try (Connection c = db().getConnection()) {
            WorkersTable.register(c, "planned-context-w0", MODEL, "localhost", 1L << 30, 1, 1.0);
            PlanTable.insert(c, new StagePlan(MODEL, 1_000_000, 16,
                    List.of(new StagePlan.Stage(0, "planned-context-w0", 0, 5, "t"))));
        }
        try {
            given().contentType(ContentType.JSON).body("{\"prompt\":\"" + prompt + "\",\"max_tokens\":4}")
                    .post("/v1/jobs")
                    .then().statusCode(400)
                    .body("error.param", equalTo("prompt"))
                    .body("error.code", equalTo("context_length_exceeded"))
                    .body("error.message", containsString("context of 16 tokens"));
            // What fits the plan is accepted, and max_tokens is checked against the plan too.
            given().contentType(ContentType.JSON).body("{\"prompt\":\"Once upon a time\",\"max_tokens\":4}")
                    .post("/v1/jobs").then().statusCode(202);
            given().contentType(ContentType.JSON).body("{\"prompt\":\"Once upon a time\",\"max_tokens\":100}")
                    .post("/v1/jobs").then().statusCode(400).body("error.param", equalTo("max_tokens"));
        } finally {
            try (Connection c = db().getConnection();
                 PreparedStatement plans = c.prepareStatement("DELETE FROM stage_plans WHERE worker_id = ?");
                 PreparedStatement workers = c.prepareStatement("DELETE FROM workers WHERE id = ?")) {
                plans.setString(1, "planned-context-w0");
                plans.executeUpdate();
                workers.setString(1, "planned-context-w0");
                workers.executeUpdate();
            }
        }
        // Without a plan the model's trained context applies again.
        given().contentType(ContentType.JSON).body("{\"prompt\":\"" + prompt + "\",\"max_tokens\":4}")
                .post("/v1/jobs").then().statusCode(202);
    }

    private static AgroalDataSource db() {
        return Arc.container().instance(AgroalDataSource.class).get();
    }
}
