-- Stage workers and the stage plans the scheduler computes for them (V10..V19: scheduler/workers owner).
-- Workers need only Kafka and PostgreSQL: they register and heartbeat here, and read their assignment here.

CREATE TABLE workers (
    id             text             PRIMARY KEY,          -- bunshin.worker.id
    model          text             NOT NULL,             -- model id the worker serves (bunshin.model-id)
    host           text             NOT NULL,
    memory_bytes   bigint           NOT NULL CHECK (memory_bytes > 0), -- budget for weights (bunshin.worker.memory)
    threads        int              NOT NULL CHECK (threads > 0),
    speed_gflops   double precision NOT NULL CHECK (speed_gflops > 0), -- measured by a short matmul probe
    status         text             NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'lost', 'stopped')),
    loaded_epoch   int,                                   -- plan epoch whose layer range the worker has loaded
    load_error     text,                                  -- why the worker could not load its assignment
    registered_at  timestamptz      NOT NULL DEFAULT now(),
    last_heartbeat timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX workers_model_status ON workers (model, status);

-- One row per stage of a plan. The current plan of a model is the one with the highest epoch.
-- Stages are contiguous: stage k runs layers [layer_start, layer_end) and reads topic.
CREATE TABLE stage_plans (
    model       text        NOT NULL,
    epoch       int         NOT NULL CHECK (epoch > 0),
    stage       int         NOT NULL CHECK (stage >= 0),
    stage_count int         NOT NULL CHECK (stage_count > stage),
    worker_id   text        NOT NULL REFERENCES workers (id),
    layer_start int         NOT NULL CHECK (layer_start >= 0),
    layer_end   int         NOT NULL CHECK (layer_end > layer_start),
    topic       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, epoch, stage)
);

-- The plan a running job was last (re-)prefilled under: after a re-plan the scheduler re-prefills running jobs
-- whose plan_epoch is older than the current plan.
ALTER TABLE jobs ADD COLUMN plan_epoch int;
CREATE INDEX jobs_running_epoch ON jobs (model, plan_epoch) WHERE status = 'running';
