package dev.bunshin.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A link with a one-way delay, in user space: a TCP relay on loopback that holds every byte it forwards for
 * {@code delay} in each direction before writing it on. What {@code tc netem delay} does to a node's packets, for a
 * kernel without netem: a request and its answer through the relay take two delays more than without it. Bytes keep
 * their order and are never held longer than the delay plus the time to write them (no rate limit, no loss).
 *
 * <p>Each connection accepted is relayed to {@code target} over a connection of its own (TCP_NODELAY on both, so
 * Nagle adds nothing), by two threads per direction: one reads and stamps each chunk with when it is due, one writes
 * it then. An end of stream is passed on (after the delay) as a half-close; an error closes both sides.
 * {@link #close()} stops accepting and closes every connection.
 */
public final class DelayLink implements AutoCloseable {

    private static final int CHUNK = 64 * 1024;

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final long delayNanos;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private Thread acceptor;

    private DelayLink(ServerSocket server, InetSocketAddress target, long delayNanos) {
        this.server = server;
        this.target = target;
        this.delayNanos = delayNanos;
    }

    /**
     * Listens on a free loopback port and relays to {@code host:port} with {@code delayMs} each way.
     *
     * @throws IllegalArgumentException if the delay is negative or not finite
     */
    public static DelayLink open(String host, int port, double delayMs) {
        if (!(delayMs >= 0) || Double.isInfinite(delayMs)) {
            throw new IllegalArgumentException("a link delay must be a finite number of ms >= 0, got " + delayMs);
        }
        try {
            ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
            DelayLink link = new DelayLink(server, new InetSocketAddress(host, port), Math.round(delayMs * 1e6));
            link.acceptor = Thread.ofPlatform().daemon().name("delay-link-" + server.getLocalPort()).start(link::accept);
            return link;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a delaying link to " + host + ":" + port, e);
        }
    }

    /** The loopback port clients connect to. */
    public int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:port}: where clients connect instead of the target. */
    public String hostPort() {
        return server.getInetAddress().getHostAddress() + ":" + port();
    }

    public double delayMs() {
        return delayNanos / 1e6;
    }

    private void accept() {
        while (!closed) {
            Socket in;
            try {
                in = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Socket out = new Socket();
            try {
                out.connect(target, 10_000);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
            } catch (IOException e) {
                quietly(in);
                quietly(out);
                continue; // the client sees its connection closed, as with a refused one
            }
            sockets.add(in);
            sockets.add(out);
            if (closed) {
                quietly(in);
                quietly(out);
                return;
            }
            relay(in, out, "up");
            relay(out, in, "down");
        }
    }

    /** One direction: a reader that stamps chunks with when they are due, a writer that sends each then. */
    private void relay(Socket from, Socket to, String way) {
        record Chunk(long due, byte[] bytes) {
        }
        Chunk end = new Chunk(0, null);
        BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
        String name = "delay-link-" + port() + "-" + from.getPort() + "-" + way;
        Thread.ofPlatform().daemon().name(name + "-read").start(() -> {
            try {
                // Not closed at its end: closing a socket's stream closes the socket, and the other way still runs.
                InputStream input = from.getInputStream();
                byte[] buf = new byte[CHUNK];
                int n;
                while ((n = input.read(buf)) >= 0) {
                    if (n > 0) queue.add(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buf, n)));
                }
                queue.add(new Chunk(System.nanoTime() + delayNanos, null));
            } catch (IOException e) {
                queue.add(end); // reset or closed: the writer closes both at once
            }
        });
        Thread.ofPlatform().daemon().name(name + "-write").start(() -> {
            try {
                OutputStream output = to.getOutputStream();
                while (true) {
                    Chunk c = queue.take();
                    if (c == end) break;
                    long wait;
                    while ((wait = c.due() - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
                    if (c.bytes() == null) {
                        to.shutdownOutput(); // an orderly end, passed on after the delay
                        return;
                    }
                    output.write(c.bytes());
                    output.flush();
                }
            } catch (IOException | InterruptedException e) {
                // below
            }
            quietly(from);
            quietly(to);
        });
    }

    private void quietly(Socket s) {
        sockets.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            // The listening socket is released once the accepting thread has left accept().
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Socket s : sockets) quietly(s);
    }

    @Override
    public String toString() {
        return hostPort() + " -> " + target.getHostString() + ":" + target.getPort() + " (" + delayMs() + " ms each way)";
    }
}
