package dev.conclab.crawl.site;

import io.netty.channel.AbstractEventLoopGroup;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The site's event loops: {@code n} {@link SingleThreadIoEventLoop}s handed out round-robin, which {@link #close}
 * stops and whose threads it joins, so that nothing of the site outlives it.
 *
 * <p>Why not {@code MultiThreadIoEventLoopGroup}: that group learns of its loops' ends through listeners on their
 * termination futures, which Netty runs on its {@code GlobalEventExecutor}, a thread that starts then and lingers for
 * a second after — a leaked thread for every test that closes a site. Here nobody listens: {@link #close} waits for
 * each loop's future and joins each thread. Thread-safe.
 */
final class SiteLoops extends AbstractEventLoopGroup implements IoEventLoopGroup {

    private final List<IoEventLoop> loops = new ArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger next = new AtomicInteger();
    private final Promise<Void> terminated = ImmediateEventExecutor.INSTANCE.newPromise();

    SiteLoops(int n, IoHandlerFactory io) {
        AtomicInteger ids = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            loops.add(new SingleThreadIoEventLoop(this, r -> {
                Thread t = Thread.ofPlatform().name("test-site-" + ids.getAndIncrement()).daemon(true).unstarted(r);
                threads.add(t);
                return t;
            }, io));
        }
    }

    @Override
    public IoEventLoop next() {
        return loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    }

    /** Shuts every loop down at once (no quiet period), waits for them and joins their threads. Idempotent. */
    @Override
    public void close() {
        for (IoEventLoop loop : loops) {
            loop.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
        boolean interrupted = false;
        for (IoEventLoop loop : loops) {
            loop.terminationFuture().awaitUninterruptibly();
        }
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        terminated.trySuccess(null);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public ChannelFuture register(Channel channel, ChannelPromise promise) {
        return next().register(channel, promise);
    }

    @Override
    @SuppressWarnings("deprecation")
    public ChannelFuture register(ChannelPromise promise) {
        return next().register(promise);
    }

    @Override
    public ChannelFuture register(Channel channel) {
        return next().register(channel);
    }

    @Override
    public boolean isShuttingDown() {
        return loops.stream().allMatch(EventExecutor::isShuttingDown);
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        loops.forEach(l -> l.shutdownGracefully(quietPeriod, timeout, unit));
        return terminated;
    }

    @Override
    public Future<?> terminationFuture() {
        return terminated;
    }

    @Override
    @Deprecated
    public void shutdown() {
        loops.forEach(l -> l.shutdownGracefully(0, 2, TimeUnit.SECONDS));
    }

    @Override
    public boolean isShutdown() {
        return loops.stream().allMatch(EventExecutor::isShutdown);
    }

    @Override
    public boolean isTerminated() {
        return loops.stream().allMatch(EventExecutor::isTerminated);
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (IoEventLoop loop : loops) {
            if (!loop.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return true;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Iterator<EventExecutor> iterator() {
        return (Iterator) List.copyOf(loops).iterator();
    }
}
