package dev.bunshin.worker;

import dev.bunshin.protocol.ActivationRecord;
import org.junit.jupiter.api.Test;

import static dev.bunshin.worker.PositionLedger.Verdict.DUPLICATE;
import static dev.bunshin.worker.PositionLedger.Verdict.GAP;
import static dev.bunshin.worker.PositionLedger.Verdict.NEXT;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PositionLedgerTest {

    @Test
    void recordsRunInPositionOrderOnceEach() {
        PositionLedger l = new PositionLedger();
        ActivationRecord prefill = ActivationRecord.prefill(1, 1, 0, 0, 1, new int[] {5, 6, 7});
        assertEquals(GAP, l.check(ActivationRecord.decode(1, 1, 3, 9)), "a decode before its prefill");
        assertEquals(NEXT, l.check(prefill));
        l.advance(prefill);
        assertEquals(DUPLICATE, l.check(prefill));
        assertEquals(NEXT, l.check(ActivationRecord.decode(1, 1, 3, 9)));
        assertEquals(GAP, l.check(ActivationRecord.decode(1, 1, 5, 9)));
        l.free(1);
        assertEquals(0, l.size());
        assertEquals(NEXT, l.check(prefill), "a freed job starts again at 0 (a re-prefill)");
    }
}
