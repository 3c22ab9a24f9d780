package dev.conclab.jobs.task;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The code of a task: takes its JSON arguments (already validated against the task's declared arity and types)
 * and returns a result Jackson can write as JSON ({@code null}, a number, a string, a record, a collection, a
 * {@link JsonNode}). A thrown exception fails the attempt; the worker then retries or dead-letters the task.
 *
 * <p>Bodies run concurrently on many threads (and, with the process pool, in other JVMs): they must be
 * thread-safe and should be idempotent, since delivery is at least once.
 */
@FunctionalInterface
public interface TaskBody {

    /**
     * Runs one attempt.
     *
     * @param context the attempt's id, attempt number and cancellation
     * @param args    the arguments, one node per parameter; a chain's parent result or a chord's results come first
     */
    Object run(TaskContext context, List<JsonNode> args) throws Exception;
}
