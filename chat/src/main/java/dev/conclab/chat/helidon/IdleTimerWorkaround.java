package dev.conclab.chat.helidon;

import java.lang.reflect.Field;
import java.util.Set;
import java.util.Timer;
import java.util.stream.Collectors;

/**
 * Works around a thread leak of Helidon 4.5.0: every {@code WebServer} starts a {@link Timer} thread named
 * {@code helidon-idle-connection-timer} for its idle-connection sweep and never cancels it, and the periodic task
 * keeps the timer reachable, so the thread outlives {@code stop()} until the JVM exits (helidon-io/helidon#11939,
 * fixed upstream by cancelling the task on stop). This class finds the timer thread a server started and cancels
 * its {@link Timer} on close.
 *
 * <p>Reaching the {@code Timer} from its thread needs {@code --add-opens java.base/java.util=ALL-UNNAMED}; without
 * it {@link #cancel} does nothing and says so once (the thread is a daemon: a process serving one chat loses
 * nothing). Thread-safe; {@link #startGuard()} serialises server starts so that each server finds its own thread.
 */
final class IdleTimerWorkaround {

    static final String THREAD_NAME = "helidon-idle-connection-timer";
    private static final Object START_LOCK = new Object();
    private static volatile boolean warned;

    private IdleTimerWorkaround() {
    }

    static Object startGuard() {
        return START_LOCK;
    }

    /** The timer threads alive now. */
    static Set<Thread> timerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(THREAD_NAME) && t.isAlive())
                .collect(Collectors.toSet());
    }

    /** Cancels the {@link Timer} run by {@code thread} (its tasks and its thread); waits up to 1 s for the thread. */
    static void cancel(Thread thread) {
        if (thread == null) {
            return;
        }
        try {
            Field queueField = thread.getClass().getDeclaredField("queue");
            queueField.setAccessible(true);
            Object queue = queueField.get(thread);
            Field tasksField = queue.getClass().getDeclaredField("queue");
            tasksField.setAccessible(true);
            Object[] tasks;
            synchronized (queue) {
                tasks = ((Object[]) tasksField.get(queue)).clone();
            }
            for (Object task : tasks) {
                Timer timer = task == null ? null : timerOf(task);
                if (timer != null) {
                    timer.cancel();
                    thread.join(1_000);
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                System.getLogger(IdleTimerWorkaround.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot stop Helidon's idle-connection timer thread (run with --add-opens "
                                + "java.base/java.util=ALL-UNNAMED); it stays until the JVM exits: " + e);
            }
        }
    }

    /** The {@code timer} field of Helidon's IdleTimeoutHandler task. */
    private static Timer timerOf(Object task) throws ReflectiveOperationException {
        for (Class<?> c = task.getClass(); c != null; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.getType() == Timer.class) {
                    f.setAccessible(true);
                    return (Timer) f.get(task);
                }
            }
        }
        return null;
    }
}
