package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.toolkit.process.ParentWatch;

import java.time.Duration;
import java.util.List;

/**
 * A worker process on another "machine" for {@link RedisBrokerTest}: {@code PORT PREFIX VISIBILITY_MS} opens a
 * broker on 127.0.0.1:PORT, prints {@code ready}, reserves one message of the default queue with that visibility,
 * marks it started, prints {@code held ID} and waits to be killed mid-task. Exits with its parent.
 */
public final class RedisChildWorker {

    private RedisChildWorker() {
    }

    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        RedisBrokerConfig config = RedisBrokerConfig.of("127.0.0.1", Integer.parseInt(args[0])).withPrefix(args[1]);
        try (RedisBroker broker = RedisBroker.open(config)) {
            System.out.println("ready");
            System.out.flush();
            Delivery d = broker.reserve("doomed", List.of(TaskMessage.DEFAULT_QUEUE), 1,
                    Duration.ofMillis(Long.parseLong(args[2])), Duration.ofSeconds(30)).getFirst();
            broker.started(d);
            System.out.println("held " + d.message().id());
            System.out.flush();
            while (System.in.read() >= 0) {
                // killed here by the parent (destroyForcibly), mid-task
            }
        }
    }
}
