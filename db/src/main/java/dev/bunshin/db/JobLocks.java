package dev.bunshin.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;

/**
 * Takes the row locks of several jobs up front, in ascending id order (the lock order of {@link JobsTable}): a
 * transaction that then updates them in any order, or with several statements, can wait for another such
 * transaction but never in a cycle with it.
 */
public final class JobLocks {

    private JobLocks() {}

    /** Locks the rows of {@code ids} (those that exist) FOR UPDATE in id order, in the caller's transaction. */
    public static void lockInIdOrder(Connection c, Collection<Long> ids) throws SQLException {
        if (ids.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM jobs WHERE id = ANY (?) ORDER BY id FOR UPDATE")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    // locking is the point
                }
            }
        }
    }
}
