/**
 * The browser page of the chat ({@link dev.conclab.chat.web.WebPage}): plain HTML, JavaScript and CSS served by any
 * model on its port at {@code /}, speaking {@code chat/PROTOCOL.md} over the model's WebSocket. No framework, no build
 * step, nothing loaded from elsewhere.
 */
package dev.conclab.chat.web;
