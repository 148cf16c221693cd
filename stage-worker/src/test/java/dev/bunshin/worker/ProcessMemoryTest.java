package dev.bunshin.worker;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ProcessMemoryTest {

    @Test
    void vmRssIsReadInKibibytes() {
        String status = "Name:\tjava\nVmPeak:\t 9000000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 100000 kB\n";
        assertEquals(123456L * 1024, ProcessMemory.residentBytes(status));
    }

    @Test
    void noVmRssIsUnknown() {
        assertEquals(-1, ProcessMemory.residentBytes("Name:\tkthreadd\nState:\tS (sleeping)\n"));
    }

    @Test
    void anUnexpectedUnitNamesTheLine() {
        var e = assertThrows(IllegalArgumentException.class, () -> ProcessMemory.residentBytes("VmRSS:\t 12 MB\n"));
        assertTrue(e.getMessage().contains("VmRSS:\t 12 MB"), e.getMessage());
    }
}
