package dev.bunshin.engine.sample;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringsTest {

    @Test
    void textWithoutStopStringsPassesThrough() {
        StopStrings s = new StopStrings(List.of("</answer>"));
        assertEquals("Hello", s.push("Hello").text());
        assertEquals(" world", s.push(" world").text());
        assertEquals("", s.flush());
        assertFalse(s.stopped());
    }

    @Test
    void stopStringInsideOnePieceReleasesOnlyWhatComesBefore() {
        StopStrings s = new StopStrings(List.of("\n\n"));
        StopStrings.Result r = s.push("The end.\n\nNext story");
        assertEquals("The end.", r.text());
        assertTrue(r.stopped());
        assertEquals("\n\n", r.stop());
        assertEquals(new StopStrings.Result("", true, "\n\n"), s.push("more"));
        assertEquals("", s.flush());
    }

    @Test
    void stopStringSplitAcrossPiecesIsHeldBackThenDropped() {
        StopStrings s = new StopStrings(List.of("<|end|>"));
        assertEquals("Hi", s.push("Hi<|").text());
        assertEquals("", s.push("en").text());
        StopStrings.Result r = s.push("d|> trailing");
        assertEquals("", r.text());
        assertTrue(r.stopped());
        assertEquals("<|end|>", s.stop());
    }

    @Test
    void heldPrefixIsReleasedWhenItDoesNotContinue() {
        StopStrings s = new StopStrings(List.of("STOP"));
        assertEquals("a", s.push("aST").text());
        assertEquals("STx", s.push("x").text());
        assertEquals("", s.push("S").text());
        assertEquals("S", s.flush(), "at the end, a held prefix is just text");
    }

    @Test
    void overlappingPrefixesKeepTheLongestPossibleStart() {
        // "aab": the stop "abc" could start at the second 'a', so "ab" is held and only one 'a' released
        StopStrings s = new StopStrings(List.of("abc"));
        assertEquals("a", s.push("aab").text());
        StopStrings.Result r = s.push("c");
        assertTrue(r.stopped());
        assertEquals("", r.text());

        // self-overlapping stop "aaab": text "aaaab" must still be caught
        StopStrings t = new StopStrings(List.of("aaab"));
        StringBuilder out = new StringBuilder();
        for (String piece : List.of("a", "a", "a", "a", "b")) {
            out.append(t.push(piece).text());
        }
        assertTrue(t.stopped());
        assertEquals("a", out.toString());
    }

    @Test
    void theStopStringCompletingFirstWinsWhateverThePieces() {
        List<String> stops = List.of("abcd", "bc");
        StopStrings whole = new StopStrings(stops);
        StopStrings.Result r = whole.push("xabcd");
        assertEquals("xa", r.text());
        assertEquals("bc", r.stop());
        StopStrings chars = new StopStrings(stops);
        StringBuilder out = new StringBuilder();
        for (char c : "xabcd".toCharArray()) {
            out.append(chars.push(String.valueOf(c)).text());
        }
        assertEquals("xa", out.toString());
        assertEquals("bc", chars.stop());
    }

    @Test
    void longerStopAtTheSameEndStartingEarlierWins() {
        StopStrings s = new StopStrings(List.of("c", "abc"));
        StopStrings.Result r = s.push("xyabc");
        assertEquals("xy", r.text());
        assertEquals("abc", r.stop());
    }

    @Test
    void noStopStringsMeansNothingIsHeld() {
        StopStrings s = new StopStrings(List.of("", ""));
        assertEquals("abc", s.push("abc").text());
        assertNull(s.push("d").stop());
    }
}
