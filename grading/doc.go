// Package grading grades the exercises of the assignment's student notebook
// from values, not from what a submission prints.
//
// A grading run draws a Case from a fresh seed: the inputs every exercise
// is called on (logits, probabilities, labels, images, weights). Observe
// runs inside the sandbox, in the submission's own program, with the
// submission's functions (Exercises): it calls each on the Case and writes
// the raw outputs, one JSON line per exercise, to a file descriptor the
// submission's code cannot reach. Judge runs outside the sandbox, in the
// grader's process: it draws the same Case from the same seed, computes the
// library's answers (package mnistfc) and compares, with tolerances that
// accept any correct way of writing an exercise.
//
//	// In the sandbox (the program the grader builds from the submission):
//	grading.Observe(seed, grading.Exercises{Sigmoid: sigmoid, ...}, out)
//	// Outside, in the grader:
//	verdicts, err := grading.Judge(seed, observations)
//
// Package grading/source reads a submission's cells, refuses imports and
// magics outside an allowlist, finds shortcuts to the library's own
// versions by type-checked analysis, and writes the program that calls
// Observe.
package grading
