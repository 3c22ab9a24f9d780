package dev.conclab.jobs.broker.sqlite;

/**
 * A failure of the SQLite store under a {@link SqliteBroker} (the file is unreadable, locked past the busy timeout,
 * full, or corrupt). The operation that threw it was rolled back: nothing of it is stored.
 */
public final class SqliteStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SqliteStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
