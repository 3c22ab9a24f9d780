package dev.conclab.jobs.broker.redis;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisNoScriptException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * One Lua script of the broker, run by its SHA-1 (EVALSHA). A server that does not know it (first use, or a restart:
 * the script cache is not persisted) gets it loaded and the call is repeated. Immutable, thread-safe.
 */
final class LuaScript {

    private static final String DIR = "/dev/conclab/jobs/broker/redis/";

    private final String name;
    private final String text;
    private final String sha;

    private LuaScript(String name, String text) {
        this.name = name;
        this.text = text;
        this.sha = sha1(text);
    }

    /** The shared helpers ({@code common.lua}) followed by the script {@code name.lua}. */
    static LuaScript load(String name) {
        return new LuaScript(name, resource("common") + "\n" + resource(name));
    }

    String name() {
        return name;
    }

    Object eval(Jedis jedis, List<String> args) {
        try {
            return jedis.evalsha(sha, List.of(), args);
        } catch (JedisNoScriptException e) {
            jedis.scriptLoad(text);
            return jedis.evalsha(sha, List.of(), args);
        }
    }

    /** Queues the call in a pipeline; the caller must have {@linkplain #ensureLoaded loaded} the script first. */
    Response<Object> eval(Pipeline pipeline, List<String> args) {
        return pipeline.evalsha(sha, List.of(), args);
    }

    void ensureLoaded(Jedis jedis) {
        if (!jedis.scriptExists(sha)) {
            jedis.scriptLoad(text);
        }
    }

    private static String resource(String name) {
        try (InputStream in = LuaScript.class.getResourceAsStream(DIR + name + ".lua")) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + DIR + name + ".lua");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JDK", e);
        }
    }
}
