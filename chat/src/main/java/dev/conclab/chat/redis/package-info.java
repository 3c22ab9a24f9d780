/**
 * Scale-out: {@link dev.conclab.chat.redis.RedisBroadcaster} joins every chat server using the same Redis into one
 * chat ({@code ./conclab chat serve --redis host:port}). Room messages, joins and leaves travel over Redis pub/sub,
 * stamped by a Lua script with cluster-wide ids; presence lives in a sorted set per room. Without a Redis address a
 * server runs alone and connects to nothing.
 */
package dev.conclab.chat.redis;
