package dev.bunshin.worker;

import dev.bunshin.engine.StageOutput;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.WirePrecision;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineBatchTest {

    private static ActivationRecord rec(long job, int n) {
        return ActivationRecord.prefill(job, 1, 0, 0, 1, new int[n])
                .withActivations(new float[n * FakeBackend.N_EMBD], WirePrecision.F32);
    }

    @Test
    void oneRecordPerJobAndAtMostMaxTokens() {
        EngineBatch b = new EngineBatch(8);
        assertTrue(b.fits(rec(1, 20))); // an empty batch takes even an oversized record
        b.add(rec(1, 3));
        assertFalse(b.fits(rec(1, 1)), "a job's next chunk waits for the next call");
        assertTrue(b.fits(rec(2, 5)));
        b.add(rec(2, 5));
        assertFalse(b.fits(rec(3, 1)), "8 tokens already");
        assertEquals(2, b.take().size());
        assertTrue(b.isEmpty());
    }

    @Test
    void decodeStepsDoNotCountAgainstThePromptPositions() {
        EngineBatch b = new EngineBatch(4);
        for (long job = 1; job <= 6; job++) {
            assertTrue(b.fits(ActivationRecord.decode(job, 1, 10, 7)), "decode step " + job);
            b.add(ActivationRecord.decode(job, 1, 10, 7));
        }
        assertTrue(b.fits(rec(7, 3)), "a wave of 6 decode steps leaves the 4 prompt positions free");
        b.add(rec(7, 3));
        assertTrue(b.fits(rec(8, 1)));
        assertFalse(b.fits(rec(9, 2)), "3 + 2 prompt positions");
        assertFalse(b.fits(ActivationRecord.decode(7, 1, 3, 7)), "job 7 is in the call already");
    }

    @Test
    void bisectionFindsTheRefusedRecordsAndRunsTheRest() throws Exception {
        FakeBackend backend = new FakeBackend(64);
        backend.refuse.add(3L);
        backend.refuse.add(6L);
        List<ActivationRecord> recs = new ArrayList<>();
        for (long j = 1; j <= 8; j++) recs.add(rec(j, 1));
        List<Long> refused = new ArrayList<>();
        List<StageOutput> out = EngineBatch.run(backend, recs, (r, why) -> refused.add(r.jobId()));
        assertEquals(List.of(3L, 6L), refused);
        assertEquals(8, out.size());
        for (int i = 0; i < 8; i++) {
            if (i == 2 || i == 5) assertNull(out.get(i));
            else assertEquals(i + 1, out.get(i).seqId());
        }
        assertEquals(6, backend.cached.size());
    }
}
