package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.toolkit.process.ParentWatch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A second process on a broker file, for {@link SqliteBrokerTest}: {@code consume FILE TOTAL} takes and settles
 * messages until the file counts TOTAL successes, printing {@code got ID} for each it settled; {@code hold FILE MS}
 * reserves one message for MS ms of visibility, prints {@code held ID} and waits to be killed. Prints {@code ready}
 * once its broker is open. Exits with its parent.
 */
public final class SqliteChildConsumer {
    private SqliteChildConsumer() {
    }

    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        String mode = args[0];
        Path file = Path.of(args[1]);
        List<String> queues = List.of(TaskMessage.DEFAULT_QUEUE);
        try (SqliteBroker broker = SqliteBroker.open(file)) {
            System.out.println("ready");
            System.out.flush();
            switch (mode) {
                case "consume" -> {
                    long total = Long.parseLong(args[2]);
                    while (broker.stats().succeeded() < total) {
                        List<Delivery> got = broker.reserve("child", queues, 8, Duration.ofMinutes(1),
                                Duration.ofMillis(500));
                        for (Delivery d : got) {
                            if (broker.settle(d, new Settlement.Success("\"child\""))) {
                                System.out.println("got " + d.message().id());
                            }
                        }
                        System.out.flush();
                    }
                    System.out.println("done");
                }
                case "hold" -> {
                    Delivery d = broker.reserve("doomed", queues, 1, Duration.ofMillis(Long.parseLong(args[2])),
                            Duration.ofSeconds(30)).getFirst();
                    System.out.println("held " + d.message().id());
                    System.out.flush();
                    // Killed here by the parent (destroyForcibly), mid-task.
                    while (System.in.read() >= 0) {
                        // wait for EOF or the kill
                    }
                }
                default -> throw new IllegalArgumentException("mode must be consume or hold, was " + mode);
            }
            System.out.flush();
        }
    }
}
