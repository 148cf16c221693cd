package dev.bunshin.launcher;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.Objects;

/**
 * Where {@code up}'s servers listen ({@code --bind}) and the host other machines use to reach them
 * ({@code --advertise}).
 *
 * @param bind the address Kafka, PostgreSQL and the API listen on ({@code 127.0.0.1}, a LAN IP, {@code 0.0.0.0})
 * @param advertise the host Kafka hands to clients and the join command names; never a wildcard
 * @param advertiseSource why that host: "--advertise", "--bind", "canonical host name", "first non-loopback IPv4"
 */
public record Binding(String bind, String advertise, String advertiseSource) {

    public static final String LOOPBACK = "127.0.0.1";

    public static final Binding LOCAL = new Binding(LOOPBACK, LOOPBACK, "--bind");

    public Binding {
        Objects.requireNonNull(bind, "bind == null");
        Objects.requireNonNull(advertise, "advertise == null");
    }

    /**
     * Checks that {@code bind} is an address of this machine (by binding a socket to it) and picks the advertised
     * host: {@code advertise} if given; else {@code bind} unless it is a wildcard; else this machine's canonical host
     * name if it resolves to a non-loopback address; else its first non-loopback IPv4 address.
     *
     * @throws IllegalArgumentException naming the option and its value
     */
    public static Binding of(String bind, String advertise) {
        InetAddress address;
        try {
            address = InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--bind " + bind + ": unknown host");
        }
        try (ServerSocket probe = new ServerSocket(0, 1, address)) {
            probe.getLocalPort();
        } catch (IOException e) {
            throw new IllegalArgumentException("--bind " + bind + ": not an address of this machine (" + e.getMessage()
                    + "); use 0.0.0.0 for every interface, or one of this machine's IPs");
        }
        if (advertise != null) {
            if (advertise.isBlank() || isWildcard(advertise)) {
                throw new IllegalArgumentException("--advertise must be a host other machines can reach, got \""
                        + advertise + "\"");
            }
            return new Binding(bind, advertise, "--advertise");
        }
        if (!address.isAnyLocalAddress()) {
            return new Binding(bind, bind, "--bind");
        }
        try {
            InetAddress local = InetAddress.getLocalHost();
            String name = local.getCanonicalHostName();
            if (!local.isLoopbackAddress() && !InetAddress.getByName(name).isLoopbackAddress()) {
                return new Binding(bind, name, "canonical host name");
            }
        } catch (UnknownHostException e) {
            // no usable host name: fall back to an interface address
        }
        String ip = firstNonLoopbackIpv4();
        if (ip == null) {
            throw new IllegalArgumentException("--bind " + bind + ": this machine has no non-loopback IPv4 address to"
                    + " advertise; pass --advertise HOST");
        }
        return new Binding(bind, ip, "first non-loopback IPv4");
    }

    /**
     * Whether the servers are set up for other machines: any bind address but the default 127.0.0.1 (or ::1).
     * Then the database gets a generated password and lets any host log in with it, and the ports are stable.
     * (127.0.0.2 and the like count too: that is how one machine tests the shared set-up.)
     */
    public boolean shared() {
        try {
            InetAddress address = InetAddress.getByName(bind);
            return !(address.isLoopbackAddress() && (address.getHostAddress().equals(LOOPBACK)
                    || address instanceof java.net.Inet6Address));
        } catch (UnknownHostException e) {
            return true;
        }
    }

    /** Whether other machines can reach the servers at all (the bind address is not in 127.0.0.0/8 or ::1). */
    public boolean beyondLoopback() {
        try {
            return !InetAddress.getByName(bind).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return true;
        }
    }

    /** The host this machine uses to reach its own servers: the bind address, or 127.0.0.1 for a wildcard. */
    public String localHost() {
        return isWildcard(bind) ? LOOPBACK : bind;
    }

    /** {@code host:port}, with an IPv6 literal in brackets (as URLs and Kafka want it). */
    static String hostPort(String host, int port) {
        return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    static boolean isWildcard(String host) {
        try {
            return InetAddress.getByName(host).isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String firstNonLoopbackIpv4() {
        try {
            String fallback = null;
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                        if (a.isSiteLocalAddress()) {
                            return a.getHostAddress(); // a LAN address is what the other boxes see
                        }
                        if (fallback == null) {
                            fallback = a.getHostAddress();
                        }
                    }
                }
            }
            return fallback;
        } catch (SocketException e) {
            return null;
        }
    }
}
