/**
 * A pool of worker JVM processes, the JVM's counterpart of Python's {@code multiprocessing.Pool} and
 * {@code concurrent.futures.ProcessPoolExecutor}: {@link dev.conclab.toolkit.process.pool.ProcessPool}.
 *
 * <p>Workers are JVMs started by {@link dev.conclab.toolkit.process.JvmLauncher} on the pool's own class path
 * (main class {@link dev.conclab.toolkit.process.pool.WorkerMain}); each runs
 * {@link dev.conclab.toolkit.process.ParentWatch} first, so it exits within about a second when the pool's JVM
 * dies, even by {@code kill -9}. Tasks are static methods named by a
 * {@link dev.conclab.toolkit.process.pool.TaskRef}; no code and no object graph crosses the boundary.
 *
 * <h2>Pool states</h2>
 * <pre>
 *   RUNNING ──shutdown()──▶ SHUTDOWN ──(queue drained, workers exited)──▶ TERMINATED
 *      │                       │
 *      └──terminate()──────────┴──▶ TERMINATING ──(workers killed and reaped)──▶ TERMINATED
 * </pre>
 * Only RUNNING accepts work. {@code join()} waits for TERMINATED (and is the only method that sets it);
 * {@code close()} is {@code shutdown()} + {@code join()}. All transitions are idempotent.
 *
 * <h2>Worker states</h2>
 * Each worker belongs to one pool thread (a <em>slot</em>) that talks to it synchronously:
 * <pre>
 *   STARTING ──READY (+ INIT answered)──▶ IDLE ──CALL──▶ BUSY ──RESULT/ERROR──▶ IDLE
 *      │                                   │              │
 *      │ no READY / initializer threw      │ SHUTDOWN     │ EOF, malformed frame, timeout, cancel
 *      ▼                                   ▼              ▼
 *    DISCARDED (start-up fails the chunk)  EXITED (0)    KILLED ─▶ chunk fails (WorkerCrashedException,
 *                                                                  or TimeoutException/CancellationException)
 * </pre>
 * After {@code maxTasksPerChild} chunks an IDLE worker is sent SHUTDOWN and a new one started. A slot whose
 * worker died starts a replacement at once while the pool is RUNNING, else when the next chunk needs it.
 *
 * <h2>Wire format</h2>
 * Length-prefixed frames over the worker's standard input (pool → worker) and standard output (worker → pool),
 * specified in {@link dev.conclab.toolkit.process.pool.WireFormat}: magic {@code "CLPP"}, version 1, frame type,
 * request id, payload length, payload; payload values are null, boolean, long, double, String, byte[], list and
 * map, tagged. A conversation: worker sends READY; pool may send INIT (initializer) and gets RESULT or ERROR;
 * then CALL → RESULT (one result per call of the chunk, in order) or ERROR (the remote exception as a map of
 * class, message, frames and cause), repeatedly; SHUTDOWN or the end of input ends the worker. Any frame that
 * breaks the format is rejected with a {@link dev.conclab.toolkit.process.pool.FrameFormatException} naming the
 * problem, and the side that got it stops trusting the stream (the pool kills the worker; a worker exits with
 * status {@value dev.conclab.toolkit.process.pool.WorkerMain#WIRE_ERROR_STATUS}).
 */
package dev.conclab.toolkit.process.pool;
