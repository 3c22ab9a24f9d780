/**
 * The experiment-only platform-thread-per-connection model of the chat server (Netty's OIO transport): the third
 * model, kept to measure where a platform thread per connection stops scaling; {@code chat serve} does not offer it.
 */
package dev.conclab.chat.platform;
