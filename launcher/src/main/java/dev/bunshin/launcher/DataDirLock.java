package dev.bunshin.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One {@code up} per data directory: an exclusive lock on {@code <data-dir>/up.lock}, holding the launcher's pid,
 * for as long as the stack runs. The kernel drops the lock when the launcher dies, however it dies, so a lock that
 * can be taken means no launcher runs there now. A second {@code up} on the same directory is refused with the
 * first one's pid, instead of failing later on a busy port or a locked Kafka log directory.
 */
final class DataDirLock implements AutoCloseable {

    static final String FILE = "up.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock, or throws naming the directory and the pid of the launcher that holds it. */
    static DataDirLock acquire(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        try {
            Files.createDirectories(dataDir);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException sameJvm) {
                lock = null;
            }
            if (lock == null) {
                String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
                channel.close();
                throw new IllegalStateException("another ./bunshin up runs on " + dataDir
                        + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                        + ": stop it first, or pass another --data-dir");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
            return new DataDirLock(channel, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file, e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // closing the channel releases the lock anyway
        }
    }
}
