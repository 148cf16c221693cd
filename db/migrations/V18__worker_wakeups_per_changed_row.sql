-- V12's trigger on workers was FOR EACH STATEMENT: PostgreSQL fires a statement trigger even when the statement
-- changes no row, so every UPDATE of workers that matched nothing (the scheduler's expiry check on each tick, a
-- revive of a row that is not lost) sent NOTIFY bunshin_scheduler and woke the scheduler at once; its next tick's
-- check woke it again (≈ 3,300 ticks/s on an idle stack). Here the wake-up fires per row that really changed in
-- what the scheduler plans from. PostgreSQL collapses identical notifications of one transaction, so a statement
-- changing many rows still sends one.
DROP TRIGGER workers_wake_scheduler ON workers;

CREATE TRIGGER workers_joined_or_left_wake_scheduler AFTER INSERT OR DELETE ON workers
    FOR EACH ROW EXECUTE FUNCTION bunshin_notify_scheduler();

CREATE TRIGGER workers_changed_wake_scheduler AFTER UPDATE ON workers
    FOR EACH ROW WHEN ((OLD.status, OLD.loaded_epoch, OLD.load_error, OLD.incarnation, OLD.registered_at, OLD.model,
                        OLD.memory_bytes, OLD.threads, OLD.speed_gflops)
                       IS DISTINCT FROM
                       (NEW.status, NEW.loaded_epoch, NEW.load_error, NEW.incarnation, NEW.registered_at, NEW.model,
                        NEW.memory_bytes, NEW.threads, NEW.speed_gflops))
    EXECUTE FUNCTION bunshin_notify_scheduler();
