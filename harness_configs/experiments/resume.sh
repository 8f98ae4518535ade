# shellcheck shell=bash
# Sourced by the experiment scripts: whether a training command should get --resume.
#
#   resume_flag RUN_DIR [ROUNDS_DIR]   prints --resume when a killed run left something to resume
#                                      from: a checkpoint in RUN_DIR, or a finished self-refine
#                                      round in ROUNDS_DIR; else nothing.
# A run killed before its first checkpoint (e.g. while self-refine computes its reference
# log-probs) leaves an empty run folder, and `--resume` refuses that ("no checkpoint"): it
# starts over instead, reusing what was published (self-refine's saved pairs).
resume_flag() {
  compgen -G "$1/checkpoint-*" >/dev/null || compgen -G "${2:-/nonexistent}/round-*/adapter" >/dev/null && echo --resume
  return 0
}
