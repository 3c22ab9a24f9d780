/** Experiments behind the Basics cards (basics-01 … basics-10). */
package dev.conclab.lab.experiments.basics;
