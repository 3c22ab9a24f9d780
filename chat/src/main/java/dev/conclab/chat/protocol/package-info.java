/**
 * The chat protocol's messages, close codes and named problems, and the {@link dev.conclab.chat.protocol.Codec}
 * that parses and encodes them. Transport-independent; see {@code chat/PROTOCOL.md}.
 */
package dev.conclab.chat.protocol;
