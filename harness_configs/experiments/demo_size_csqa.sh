#!/usr/bin/env bash
# The size of `make demo`'s data (issue 19), chosen on the tuning split carved out of CSQA *train*
# (never on the 300 validation questions the demo reports).
#
#   bash harness_configs/experiments/demo_size_csqa.sh SHARED OUT PHASE
#
# SHARED holds data/ (benchmarks in the hub schemas), laid out as the project's shared folder is.
# The demonstrations come from what the demo itself uses: the 2000 PaLM-540B CSQA train rows that
# ship in training/data/teachers, less the tuning questions. PHASE is one of
#   prepare  pull the student, carve the tuning split (every 50th train row), import the shipped
#            PaLM-540B rows less the tuning questions, and score the base student on the split;
#   tune     each variant below: class-balanced truthful demonstrations (as the demo draws them),
#            the published SFT recipe (sft.yaml) with the variant's overrides, and its adapter scored
#            on the tuning split (cot, chat template, greedy), with its SFT wall time logged;
#   ship     copies the lm-eval files of the tuning evaluations into DEST (4th argument) as
#            DEST/tune195/<run>/ (base, d500, ...), with this machine's paths written portably.
# Every phase skips what an earlier run of it finished. ONLY: variant names to run.
set -euo pipefail
SHARED=$(realpath "$1")
OUT=$(realpath -m "$2")
PHASE=$3
RECIPES=harness_configs/recipes/smollm2-135m-instruct
TEACHER=training/data/teachers/csqa_palm-540b_train.jsonl
EVAL_BATCH=${EVAL_BATCH:-32}
W=$OUT/work
mkdir -p "$W" "$OUT/logs"
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1
A=(python3 -m training)
log() { echo "[$(date +%T)] $*"; }
source "$(dirname "$0")/resume.sh"  # resume_flag
BASE=${BASE:-$("${A[@]}" models pull smollm2-135m-instruct | tail -1)}

# Variants: name|demonstrations|overrides of sft.yaml
VARIANTS=(
  "d1000|1000|num_train_epochs=1"
  "d500|500|num_train_epochs=1"
  "d500e2|500|num_train_epochs=2"
  "d1250|1250|num_train_epochs=1"
)
ONLY=${ONLY:-}

evaluate() {  # name peft|none out
  local name=$1 peft=$2 out=$3 peft_arg=""
  [ "$peft" != none ] && peft_arg=",peft=$peft"
  "${A[@]}" eval --model "name=$name,pretrained=$BASE$peft_arg,chat_template=true,batch_size=$EVAL_BATCH" \
    --tasks aligncot_csqa_cot --output-dir "$out" --data-dir "$W/tune" >"$OUT/logs/eval-$name.log" 2>&1 || {
    echo "eval $name failed: see $OUT/logs/eval-$name.log"; tail -5 "$OUT/logs/eval-$name.log"; return 1; }
}

case $PHASE in
prepare)
  export ALIGNCOT_DATA_DIR=$SHARED/data
  [ -f "$W/tune/tuning_questions.txt" ] || "${A[@]}" data tuning-split --benchmark csqa --every 50 --out "$W/tune"
  [ -d "$W/ann" ] || "${A[@]}" annotate --task aligncot_csqa_cot --import "$TEACHER" \
    --exclude-questions "$W/tune/tuning_questions.txt" --out "$W/ann" --quiet
  [ -d "$W/tune_eval/base" ] || { log "base"; evaluate base none "$W/tune_eval/base"; }
  log "prepared"
  ;;
tune)
  export ALIGNCOT_DATA_DIR=$W/tune
  for v in "${VARIANTS[@]}"; do
    name=${v%%|*} rest=${v#*|}; n=${rest%%|*} overrides=${rest#*|}
    [ -z "$ONLY" ] || [[ " $ONLY " == *" $name "* ]] || continue
    [ -d "$W/demos_$name" ] || "${A[@]}" demos "$W/ann" --balance "$n" --val-fraction 0.02 --out "$W/demos_$name" >"$OUT/logs/demos-$name.log" 2>&1
    if [ ! -f "$W/sft_$name/adapter_config.json" ]; then
      log "sft $name"
      start=$(date +%s)
      # shellcheck disable=SC2086
      "${A[@]}" sft --recipe $RECIPES/sft.yaml base_model="$BASE" data="$W/demos_$name" output_dir="$W/sft_$name" \
        logging_steps=10 $overrides $(resume_flag "$W/sft_$name.run") >"$OUT/logs/sft-$name.log" 2>&1 || {
        tail -20 "$OUT/logs/sft-$name.log"; exit 1; }
      echo "$name sft_wall_s=$(( $(date +%s) - start ))" >>"$OUT/timings.txt"
    fi
    [ -d "$W/tune_eval/$name" ] || { log "eval $name"; evaluate "$name" "$W/sft_$name" "$W/tune_eval/$name"; }
    log "done $name"
  done
  ;;
ship)
  DEST=${4:?ship needs DEST}
  python3 harness_configs/experiments/ship_results.py "$DEST" "$W" "$W/tune_eval=tune195"  # REPO: as self_refine_csqa.sh
  ;;
*)
  echo "unknown phase $PHASE (prepare, tune, ship)" >&2; exit 2
  ;;
esac
