/** Demo tasks ({@link dev.conclab.jobs.demo.DemoTasks}) shared by the tests, the CLI, the experiments and the bench. */
package dev.conclab.jobs.demo;
