package dev.conclab.jobs.broker.redis;

/** The broker's Lua scripts, loaded once per JVM from the resources beside this class. Immutable, thread-safe. */
final class RedisScripts {

    static final RedisScripts INSTANCE = new RedisScripts();

    final LuaScript enqueue = LuaScript.load("enqueue");
    final LuaScript reserve = LuaScript.load("reserve");
    final LuaScript started = LuaScript.load("started");
    final LuaScript extend = LuaScript.load("extend");
    final LuaScript settle = LuaScript.load("settle");
    final LuaScript revoke = LuaScript.load("revoke");
    final LuaScript chord = LuaScript.load("chord");
    final LuaScript permit = LuaScript.load("permit");
    final LuaScript purge = LuaScript.load("purge");
    final LuaScript stats = LuaScript.load("stats");

    private RedisScripts() {
    }
}
