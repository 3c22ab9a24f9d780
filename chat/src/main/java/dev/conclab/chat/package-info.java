/**
 * The chat server of issue 8: a small JSON protocol over WebSocket ({@code chat/PROTOCOL.md}) served by
 * interchangeable {@link dev.conclab.chat.ChatModel models} behind one {@link dev.conclab.chat.ChatServer} interface.
 * {@link dev.conclab.chat.protocol} is the wire format, {@link dev.conclab.chat.core} the transport-independent chat
 * (rooms, presence, history, limits, bounded outboxes, the fan-out bus), {@link dev.conclab.chat.netty} the
 * event-loop model. Depends on toolkit only (plus Netty, Jackson, HdrHistogram), never on another system or lab.
 */
package dev.conclab.chat;
