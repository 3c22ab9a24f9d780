/**
 * Pipelines: stages connected by bounded channels, each stage with its own workers, with backpressure from the
 * sink to the source, dead letters for failed items, cancellation, graceful drain and per-stage metrics.
 *
 * <p>Build with {@link dev.conclab.toolkit.pipeline.Pipeline#builder()}: a source gives a
 * {@link dev.conclab.toolkit.pipeline.Flow}, each stage attached to a flow gives the next one, and every flow
 * ends in a sink (or feeds a fan-out or a fan-in). Then {@code start()} and {@code await()}:
 * <pre>{@code
 * PipelineBuilder b = Pipeline.builder();
 * Flow<String> lines = b.source("read", Files.readAllLines(path));        // or a Source<T> lambda
 * Flow<Record> records = lines.map("parse",
 *         StageOptions.parallel(4).inOrder(), Record::parse);          // 4 workers, input order kept
 * Flow<List<Record>> batches = records.batch("batch", 500, 50, TimeUnit.MILLISECONDS);
 * batches.sink("load", db::insertAll);                                  // one worker
 * Pipeline p = b.start();
 * p.await();                                   // the source ended and every item reached the sink or dead letters
 * p.deadLetters().forEach(d -> log(d.stage(), d.item(), d.cause()));   // parse failures, with the item and cause
 * p.metrics().forEach(System.out::println);    // items in/out, attempts, retries, queue depth, busy time
 * p.bottleneck();                              // the stage with the most busy time per worker
 * }</pre>
 * Fan-out: {@code flow.map(name, StageOptions.parallel(n), fn)} (one stage, n workers),
 * {@code flow.broadcast(name, n)} (n branches each getting every item) and {@code flow.partition(name, n, key)}
 * (n branches, items by key). Fan-in: {@code Flow.merge(name, a, b)} and the keyed join
 * {@code Flow.join(name, left, right, leftKey, rightKey, combine)}. Stop early with {@code drain()} (the source
 * stops; nothing accepted is lost) or {@code cancel()} (everything stops now; then {@code await()}).
 *
 * <p>Shared rules of the package:
 * <ul>
 *   <li><b>Batched hand-off.</b> Every stage reads its input through a
 *       {@link dev.conclab.toolkit.pipeline.BatchingChannel}: each producing worker fills a private batch of up to
 *       the consuming stage's {@link dev.conclab.toolkit.pipeline.StageOptions#handoffBatch()} items and moves it
 *       with one lock acquisition, and the consuming stage takes a chunk of items at a time if it has one worker,
 *       one item at a time if it has several. A partial batch leaves when it is full, when its worker is about to
 *       wait for its own input, when the worker ends (so a drain loses nothing), and whenever the consuming stage
 *       is waiting: a consumer about to wait takes the items in the partial batches itself, and a send that finds
 *       it waiting hands the batch over (each send pays a memory fence for this). So an item never sits in a
 *       partial batch while the stage it goes to waits for input, whatever its producer is doing, a source blocked
 *       on its own input or a stage function stuck on another item. No timer is involved and nothing spins.</li>
 *   <li><b>Bounds.</b> Every channel is bounded; a full one makes its senders wait, so memory is bounded by, per
 *       channel, {@code capacity + (producing workers + consuming workers) × handoffBatch} items (the batch is
 *       never larger than the capacity), plus one item in each worker's hands and the reorder windows (a join
 *       also holds its unpaired items).</li>
 *   <li><b>Order.</b> A one-worker stage keeps the input order; a many-worker stage does if built with
 *       {@link dev.conclab.toolkit.pipeline.StageOptions#inOrder()}, otherwise items leave as they finish.</li>
 *   <li><b>Errors.</b> A stage function's exception sends a {@link dev.conclab.toolkit.pipeline.DeadLetter} and
 *       the stage goes on. A {@code map} or {@code sink} stage may first retry the item
 *       ({@link dev.conclab.toolkit.pipeline.StageOptions#withRetry}, a
 *       {@link dev.conclab.toolkit.pipeline.RetryPolicy}) and may interrupt a call at a time limit
 *       ({@link dev.conclab.toolkit.pipeline.StageOptions#withTimeout}, the attempt then fails with a
 *       {@code TimeoutException}); the worker keeps the item while it backs off, and {@code cancel()} ends the
 *       wait.</li>
 *   <li><b>Metrics.</b> Counts are per item and exact once the pipeline has ended (during a run, a snapshot may
 *       be off by the items in motion); queue depth counts items, not batches; busy time is the time workers
 *       spent not waiting for input or for room downstream (see
 *       {@link dev.conclab.toolkit.pipeline.StageStats}).</li>
 *   <li><b>Threads.</b> Every worker is a thread of its own, platform or virtual per stage, and a stage with a
 *       time limit has one more platform thread, its watchdog; after {@code await()} returns, none is left.
 *       Waiting uses lock conditions, never monitors.</li>
 *   <li><b>Memory consistency.</b> Actions of a stage on an item happen-before the next stage's actions on what
 *       it emitted for that item.</li>
 * </ul>
 */
package dev.conclab.toolkit.pipeline;
