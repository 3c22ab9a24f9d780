package dev.conclab.lab.experiments;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.experiments.asyncio.AsyncCancellation;
import dev.conclab.lab.experiments.asyncio.AsyncExceptions;
import dev.conclab.lab.experiments.asyncio.Backpressure;
import dev.conclab.lab.experiments.asyncio.BlockingToAsync;
import dev.conclab.lab.experiments.asyncio.CooperativeScheduling;
import dev.conclab.lab.experiments.asyncio.Coroutines;
import dev.conclab.lab.experiments.asyncio.CpuStarvation;
import dev.conclab.lab.experiments.asyncio.GatherVsWait;
import dev.conclab.lab.experiments.asyncio.GreenThreads;
import dev.conclab.lab.experiments.asyncio.LoopAnatomy;
import dev.conclab.lab.experiments.asyncio.ThreadsAndLoop;
import dev.conclab.lab.experiments.basics.ConcurrencyVsParallelism;
import dev.conclab.lab.experiments.basics.CpuIoMatrix;
import dev.conclab.lab.experiments.basics.EventLoop;
import dev.conclab.lab.experiments.basics.ExecutorKinds;
import dev.conclab.lab.experiments.basics.GilCpuThreads;
import dev.conclab.lab.experiments.basics.IoModels;
import dev.conclab.lab.experiments.basics.StartCost;
import dev.conclab.lab.experiments.debugging.AppearsFaster;
import dev.conclab.lab.experiments.debugging.AppearsFasterTraps;
import dev.conclab.lab.experiments.debugging.AsyncLeak;
import dev.conclab.lab.experiments.debugging.AsyncProfile;
import dev.conclab.lab.experiments.debugging.DoctorDeadlock;
import dev.conclab.lab.experiments.debugging.LostExceptions;
import dev.conclab.lab.experiments.debugging.NaiveTimingBenchmark;
import dev.conclab.lab.experiments.debugging.Orphans;
import dev.conclab.lab.experiments.debugging.RaceStressHarness;
import dev.conclab.lab.experiments.debugging.StuckLoop;
import dev.conclab.lab.experiments.debugging.ThreadOveruse;
import dev.conclab.lab.experiments.internals.AsyncioGil;
import dev.conclab.lab.experiments.internals.FreeThreading;
import dev.conclab.lab.experiments.internals.GilAtomicity;
import dev.conclab.lab.experiments.internals.GilModel;
import dev.conclab.lab.experiments.internals.GilRelease;
import dev.conclab.lab.experiments.internals.JvmNoGil;
import dev.conclab.lab.experiments.internals.OtherPythons;
import dev.conclab.lab.experiments.internals.SwitchInterval;
import dev.conclab.lab.experiments.messaging.AsyncioConnections;
import dev.conclab.lab.experiments.messaging.ChatServerExperiment;
import dev.conclab.lab.experiments.messaging.ConnectionScale;
import dev.conclab.lab.experiments.messaging.MessagingDesignExperiment;
import dev.conclab.lab.experiments.messaging.MessagingFanOutRaces;
import dev.conclab.lab.experiments.messaging.UvloopEpoll;
import dev.conclab.lab.experiments.multiprocessing.Amdahl;
import dev.conclab.lab.experiments.multiprocessing.CopyOnWrite;
import dev.conclab.lab.experiments.multiprocessing.CpuHeavy100Mb;
import dev.conclab.lab.experiments.multiprocessing.CrossProcessQueue;
import dev.conclab.lab.experiments.multiprocessing.DebugMultiprocessing;
import dev.conclab.lab.experiments.multiprocessing.IpcThroughput;
import dev.conclab.lab.experiments.multiprocessing.JoblibParallel;
import dev.conclab.lab.experiments.multiprocessing.ManualWorkerPool;
import dev.conclab.lab.experiments.multiprocessing.PoolMapVsApply;
import dev.conclab.lab.experiments.multiprocessing.ProcessPoolExperiment;
import dev.conclab.lab.experiments.multiprocessing.ProcessesLose;
import dev.conclab.lab.experiments.multiprocessing.SharedMemory;
import dev.conclab.lab.experiments.multiprocessing.StartMethods;
import dev.conclab.lab.experiments.network.ApiHandlers;
import dev.conclab.lab.experiments.network.AsyncBottlenecks;
import dev.conclab.lab.experiments.network.AsyncFrameworks;
import dev.conclab.lab.experiments.network.ConnectionPoolExperiment;
import dev.conclab.lab.experiments.network.CrawlerModels;
import dev.conclab.lab.experiments.network.HundredRequests;
import dev.conclab.lab.experiments.network.MillionIo;
import dev.conclab.lab.experiments.network.ParallelIo;
import dev.conclab.lab.experiments.network.RateLimiterExperiment;
import dev.conclab.lab.experiments.pipelines.DataParallelTraining;
import dev.conclab.lab.experiments.pipelines.EtlCrashResume;
import dev.conclab.lab.experiments.pipelines.EtlExecutionModels;
import dev.conclab.lab.experiments.pipelines.FanInOutExperiment;
import dev.conclab.lab.experiments.pipelines.FaultTolerantPipeline;
import dev.conclab.lab.experiments.pipelines.VectorizationExperiment;
import dev.conclab.lab.experiments.practical.GracefulShutdown;
import dev.conclab.lab.experiments.practical.ParallelMapExperiment;
import dev.conclab.lab.experiments.tasks.CeleryPools;
import dev.conclab.lab.experiments.tasks.DagSchedulerExperiment;
import dev.conclab.lab.experiments.tasks.ScaleOut;
import dev.conclab.lab.experiments.tasks.TaskRedelivery;
import dev.conclab.lab.experiments.threading.BarrierPhases;
import dev.conclab.lab.experiments.threading.ContextSwitch;
import dev.conclab.lab.experiments.threading.DaemonThreads;
import dev.conclab.lab.experiments.threading.Deadlock;
import dev.conclab.lab.experiments.threading.GilHandoff;
import dev.conclab.lab.experiments.threading.LocksAndConditions;
import dev.conclab.lab.experiments.threading.ProducerConsumer;
import dev.conclab.lab.experiments.threading.RaceConditions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every experiment of the lab, by id, in the order of the sections that introduce them. The CLI, the web lab and
 * the catalog's validation all read this one list.
 */
public final class Experiments {

    private static final List<Experiment> ALL = List.of(
            // Basics
            new ConcurrencyVsParallelism(),
            new GilCpuThreads(),
            new CpuIoMatrix(),
            new IoModels(),
            new EventLoop(),
            new StartCost(),
            new ExecutorKinds(),
            // Threading
            new GilHandoff(),
            new ContextSwitch(),
            new RaceConditions(),
            new LocksAndConditions(),
            new Deadlock(),
            new DaemonThreads(),
            new ProducerConsumer(),
            // Asyncio
            new Coroutines(),
            new LoopAnatomy(),
            new GatherVsWait(),
            new AsyncExceptions(),
            new AsyncCancellation(),
            new CooperativeScheduling(),
            new GreenThreads(),
            new BlockingToAsync(),
            new Backpressure(),
            new CpuStarvation(),
            new ThreadsAndLoop(),
            // Multiprocessing
            new ProcessPoolExperiment(),
            new PoolMapVsApply(),
            new StartMethods(),
            new CopyOnWrite(),
            new IpcThroughput(),
            new SharedMemory(),
            new Amdahl(),
            new ProcessesLose(),
            new JoblibParallel(),
            new DebugMultiprocessing(),
            new CrossProcessQueue(),
            new ManualWorkerPool(),
            new CpuHeavy100Mb(),
            // Advanced
            new BarrierPhases(),
            // Practical
            new ParallelMapExperiment(),
            new GracefulShutdown(),
            // Internals
            new GilAtomicity(),
            new JvmNoGil(),
            new FreeThreading(),
            new OtherPythons(),
            new GilModel(),
            new SwitchInterval(),
            new GilRelease(),
            new AsyncioGil(),
            // Network
            new ApiHandlers(),
            new AsyncFrameworks(),
            new ConnectionPoolExperiment(),
            new AsyncBottlenecks(),
            new HundredRequests(),
            new MillionIo(),
            new RateLimiterExperiment(),
            new CrawlerModels(),
            new ParallelIo(),
            new ChatServerExperiment(),
            new MessagingDesignExperiment(),
            new MessagingFanOutRaces(),
            new ConnectionScale(),
            new AsyncioConnections(),
            new UvloopEpoll(),
            new CeleryPools(),
            new TaskRedelivery(),
            new ScaleOut(),
            new DagSchedulerExperiment(),
            new VectorizationExperiment(),
            new DataParallelTraining(),
            new FanInOutExperiment(),
            new FaultTolerantPipeline(),
            new EtlExecutionModels(),
            new EtlCrashResume(),
            new ThreadOveruse(),
            new AppearsFaster(),
            new RaceStressHarness(),
            new NaiveTimingBenchmark(),
            new LostExceptions(),
            new StuckLoop(),
            new AsyncLeak(),
            new Orphans(),
            new AsyncProfile(),
            new AppearsFasterTraps(),
            new DoctorDeadlock());

    private static final Map<String, Experiment> BY_ID = index(ALL);

    private Experiments() {
    }

    public static List<Experiment> all() {
        return ALL;
    }

    public static Optional<Experiment> byId(String id) {
        return Optional.ofNullable(BY_ID.get(id));
    }

    private static Map<String, Experiment> index(List<Experiment> experiments) {
        Map<String, Experiment> byId = new LinkedHashMap<>();
        for (Experiment e : experiments) {
            if (byId.putIfAbsent(e.id(), e) != null) {
                throw new IllegalStateException("two experiments share the id " + e.id());
            }
        }
        return byId;
    }
}
