/**
 * The virtual-thread model of the chat server, on Helidon SE's WebServer: a virtual thread per connection reads
 * frames with plain blocking code, and a second one per connection writes the outbox with blocking sends.
 */
package dev.conclab.chat.helidon;
