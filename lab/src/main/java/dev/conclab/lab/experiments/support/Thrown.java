package dev.conclab.lab.experiments.support;

/**
 * What a waiting call threw, for experiments that compare where a failure surfaces (a {@code get}, a {@code join},
 * a handler) and where it is lost.
 *
 * <p>Stateless; every method is thread-safe and returns as soon as the call does.
 */
public final class Thrown {

    /** Something that may throw anything: a join, a get, a result. */
    @FunctionalInterface
    public interface Call {
        Object call() throws Exception;
    }

    private Thrown() {
    }

    /** What {@code call} threw, or null if it returned normally. */
    public static Throwable by(Call call) {
        try {
            call.call();
            return null;
        } catch (Exception e) {
            return e;
        }
    }

    /** The simple class name of {@code t}, or "nothing" for null: the words a table row shows. */
    public static String name(Throwable t) {
        return t == null ? "nothing" : t.getClass().getSimpleName();
    }
}
