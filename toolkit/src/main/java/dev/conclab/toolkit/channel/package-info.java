/**
 * Channels: bounded, blocking hand-over of items from producer threads to consumer threads, with an end.
 *
 * <p>A {@link dev.conclab.toolkit.channel.BoundedChannel} is a {@link java.util.concurrent.BlockingQueue}-like
 * buffer that can be <em>closed</em>: after {@code close()} no item can be sent, and receivers take what is left
 * and then see the end of the stream. That replaces the "poison pill" sentinel of a plain queue (one pill per
 * consumer, a value that must never be a real item) and is the Java counterpart of a closed Go channel or of
 * Python's {@code queue.Queue.shutdown()} (3.13+).
 *
 * <p>Shared rules of the package:
 * <ul>
 *   <li><b>Bounds.</b> A channel never holds more items than its capacity; a full channel makes senders wait
 *       (backpressure) instead of growing.</li>
 *   <li><b>Timeouts.</b> A timeout of zero or less means "do not wait": the call succeeds only if it can do so at
 *       once.</li>
 *   <li><b>Interruption.</b> Every blocking call throws {@link java.lang.InterruptedException} when the thread is
 *       interrupted on entry or while it waits, and clears the interrupt status, like the blocking calls of
 *       {@code java.util.concurrent}.</li>
 *   <li><b>Memory consistency.</b> Actions in a thread before it sends an item happen-before actions in the thread
 *       that receives that item, and actions before {@code close()} happen-before a receiver seeing the end of
 *       the stream or a sender being refused.</li>
 *   <li><b>Threads.</b> Waiting uses {@link java.util.concurrent.locks.ReentrantLock} conditions, never monitors,
 *       so virtual threads wait without holding on to a carrier thread.</li>
 * </ul>
 */
package dev.conclab.toolkit.channel;
