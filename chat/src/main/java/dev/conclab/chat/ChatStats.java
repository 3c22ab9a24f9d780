package dev.conclab.chat;

/**
 * What a chat server has done since it started (a snapshot; each counter is read separately, so the set is not one
 * atomic instant). Immutable.
 *
 * @param connections        connections open now
 * @param accepted           connections opened so far
 * @param received           client messages received (every text frame)
 * @param delivered          frames handed to connections' outbound queues
 * @param errors             {@code error} replies sent
 * @param slowConsumers      connections closed because their outbound queue was full
 * @param rateLimited        client messages refused by the rate limit
 */
public record ChatStats(int connections, long accepted, long received, long delivered, long errors,
                        long slowConsumers, long rateLimited) {
}
