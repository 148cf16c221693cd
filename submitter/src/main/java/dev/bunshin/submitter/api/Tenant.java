package dev.bunshin.submitter.api;

import java.util.Objects;

/**
 * Whose jobs, batches and files a request may see and act on. {@code owner} is what the request's own creations
 * record (the SHA-256 of its API key, hex; null in open mode); {@code seesAll} is true for an admin key and in
 * open mode (no keys configured: everything stays visible, as before keys were tenants).
 */
public record Tenant(String owner, boolean seesAll) {

    /** No API keys configured: nothing is owned, everything is visible. */
    public static final Tenant OPEN = new Tenant(null, true);

    /** Whether a row recorded with {@code rowOwner} is visible to this tenant. */
    public boolean sees(String rowOwner) {
        return seesAll || Objects.equals(owner, rowOwner);
    }
}
