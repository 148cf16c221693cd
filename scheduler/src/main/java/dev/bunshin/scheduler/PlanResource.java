package dev.bunshin.scheduler;

import dev.bunshin.db.StagePlan;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code GET /plan}: the current stage plan (or why there is none), for operators and the launcher. */
@Path("/plan")
public class PlanResource {

    @Inject
    SchedulerApp app;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> plan() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        StagePlan plan = app.service().currentPlan();
        out.put("plan", plan);
        out.put("error", app.service().lastPlanError());
        return out;
    }
}
