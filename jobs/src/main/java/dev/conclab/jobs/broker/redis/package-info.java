/**
 * The Redis Streams broker ({@link dev.conclab.jobs.broker.redis.RedisBroker}): streams with consumer groups per
 * queue and priority, task records in hashes, every multi-key step a Lua script. Its scripts are resources beside
 * these classes.
 */
package dev.conclab.jobs.broker.redis;
