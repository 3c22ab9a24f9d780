/**
 * The chat's load generator: many WebSocket clients (Netty's client codec on a small event loop, so 10,000
 * connections cost a few threads and a few kilobytes each), spread over rooms, sending at an aggregate rate with a
 * send timestamp inside each text, recording the delivery latency of every delivered copy in an HdrHistogram, and
 * reading the server's memory from outside ({@code /proc/<pid>/status} and {@code jcmd}) when its pid is given.
 * Run it in its own process for large loads: {@code ./conclab chat load --help}.
 */
package dev.conclab.chat.load;
