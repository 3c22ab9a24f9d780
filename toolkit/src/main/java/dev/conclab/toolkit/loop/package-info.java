/**
 * A small, single-threaded event loop in the shape of Python's asyncio: a faithful model of asyncio's
 * {@code SelectorEventLoop} for the lessons, readable end to end. Production JVM systems use Netty's event loops,
 * which have the same anatomy (a task queue, a timer heap and a selector served by one thread).
 *
 * <ul>
 *   <li>{@link dev.conclab.toolkit.loop.SelectorEventLoop}: the loop — {@code callSoon}, {@code callLater},
 *       {@code callAt}, {@code callSoonThreadsafe}, channel readiness ({@code addReader}/{@code addWriter}),
 *       {@code runUntilComplete}, {@code runForever}/{@code stop}, {@code close}, {@code runInExecutor}, debug
 *       mode and the stall watchdog;</li>
 *   <li>{@link dev.conclab.toolkit.loop.Handle}: a scheduled callback that can be cancelled;</li>
 *   <li>{@link dev.conclab.toolkit.loop.LoopFuture}: asyncio's {@code Future}, confined to the loop thread;</li>
 *   <li>{@link dev.conclab.toolkit.loop.Task}, {@link dev.conclab.toolkit.loop.Coroutine},
 *       {@link dev.conclab.toolkit.loop.Step}, {@link dev.conclab.toolkit.loop.Outcome}: an {@code async def} written
 *       as a state machine, since Java has no coroutines;</li>
 *   <li>{@link dev.conclab.toolkit.loop.SlowCallback}, {@link dev.conclab.toolkit.loop.LoopStall},
 *       {@link dev.conclab.toolkit.loop.CallbackError}: what debug mode, the watchdog and the exception handler
 *       report.</li>
 * </ul>
 *
 * <h2>The loop's states</h2>
 * <pre>
 *   create() ──► IDLE ──runForever() / runUntilComplete()──► RUNNING ──stop(), future done, interrupt──► IDLE
 *                  │                                            │
 *                  │                                            └─ close() refused: "while it is running"
 *                  └──close()──► CLOSED (selector closed, queues dropped, watchdog stopped; every call refused)
 * </pre>
 * In IDLE, one thread at a time may schedule work; nothing runs. In RUNNING, the loop's thread repeats one
 * iteration — take posted callbacks, select (timeout: 0 if work is ready, else the next timer's deadline, else
 * none), queue ready channels' callbacks and due timers, run what is ready now — and other threads may only
 * {@code callSoonThreadsafe}.
 *
 * <h2>A future's and a task's states</h2>
 * <pre>
 *   LoopFuture:  PENDING ──setResult / setException / cancel──► DONE (done callbacks scheduled with callSoon)
 *   Task:        SCHEDULED ──step runs──► AWAITING a future ──future done──► SCHEDULED ──…──► DONE
 *                cancel(): the awaited future is cancelled; the next step receives a CancellationException
 * </pre>
 */
package dev.conclab.toolkit.loop;
