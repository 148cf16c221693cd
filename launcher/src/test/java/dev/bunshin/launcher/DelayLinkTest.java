package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A user-space link: every byte arrives intact, in order, one delay later each way; ends and closes pass on. */
class DelayLinkTest {

    /** Echoes every connection until its client half-closes, then half-closes too. */
    private static ServerSocket echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            while (true) {
                try {
                    Socket s = server.accept();
                    Thread.ofPlatform().daemon().start(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                            s.shutdownOutput();
                        } catch (IOException ignored) {
                            // client gone
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    private static Socket connect(DelayLink link) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), link.port());
        s.setTcpNoDelay(true);
        return s;
    }

    @Test
    void aRoundTripTakesTwoDelaysMoreAndKeepsEveryByte() throws Exception {
        try (ServerSocket echo = echoServer();
             DelayLink link = DelayLink.open("127.0.0.1", echo.getLocalPort(), 20);
             Socket s = connect(link)) {
            // Direct first: the echo itself is fast.
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                out.write(i);
                out.flush();
                assertEquals(i, in.read());
                best = Math.min(best, System.nanoTime() - t0);
            }
            double ms = best / 1e6;
            assertTrue(ms >= 40, "a round trip through a 20 ms link took " + ms + " ms: the delay is missing");
            assertTrue(ms < 40 + 30, "a round trip through a 20 ms link took " + ms + " ms: far more than two delays");

            // 4 MiB of random bytes both ways, in order, while the reply streams back.
            byte[] data = new byte[4 << 20];
            new Random(7).nextBytes(data);
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    out.write(data);
                    s.shutdownOutput(); // the end passes through the link, the echo ends its side, and so do we
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] back = in.readAllBytes();
            writer.join();
            assertEquals(data.length, back.length);
            assertArrayEquals(data, back);
        }
    }

    @Test
    void closingTheLinkClosesItsConnectionsAndRefusesNewOnes() throws Exception {
        ServerSocket echo = echoServer();
        DelayLink link = DelayLink.open("127.0.0.1", echo.getLocalPort(), 1);
        Socket s = connect(link);
        s.getOutputStream().write(42);
        assertEquals(42, s.getInputStream().read());
        link.close();
        s.setSoTimeout(5_000);
        assertEquals(-1, readOrEnd(s), "the client's connection ends when the link closes");
        assertThrows(IOException.class, () -> connect(link));
        echo.close();
    }

    @Test
    void refusesANegativeDelay() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DelayLink.open("127.0.0.1", 1, -1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        assertTrue(Arrays.asList(e.getMessage().split(" ")).contains("delay"), e.getMessage());
    }

    private static int readOrEnd(Socket s) {
        try {
            return s.getInputStream().read();
        } catch (IOException e) {
            return -1; // reset: ended too
        }
    }
}
