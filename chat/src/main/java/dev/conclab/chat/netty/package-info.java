/** The event-loop model of the chat server, on Netty (native epoll when available, NIO otherwise). */
package dev.conclab.chat.netty;
