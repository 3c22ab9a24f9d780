/**
 * The chat without a transport: {@link dev.conclab.chat.core.ChatHub} (names, rooms, presence, history, ids,
 * limits), {@link dev.conclab.chat.core.Session} (one connection, with its bounded
 * {@link dev.conclab.chat.core.Outbox} and slow-consumer policy), the {@link dev.conclab.chat.core.Transport} a model
 * implements, and the {@link dev.conclab.chat.core.Broadcaster} bus through which room events reach every node.
 */
package dev.conclab.chat.core;
