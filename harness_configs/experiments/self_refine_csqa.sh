#!/usr/bin/env bash
# Self-refine on CommonsenseQA (issue 17): the R3 SFT student, then DPO self-refine variants
# chosen on the tuning split carved out of CSQA *train*, then one evaluation on the first 300
# CSQA validation and OBQA test questions.
#
#   bash harness_configs/experiments/self_refine_csqa.sh SHARED OUT PHASE
#
# SHARED holds data/ (benchmarks in the hub schemas) and teachers/ (csqa_palm-540b_train.jsonl),
# laid out as the project's shared folder is. PHASE is one of
#   prepare  pull the student, carve the tuning split, import PaLM-540B's train rationales less
#            the tuning questions, 2000 class-balanced truthful demonstrations, R3 SFT, and
#            1000 class-balanced questions for self-refine, disjoint from the SFT demonstrations'
#            (demos_sft/questions.txt) and the tuning split's;
#   tune     the self-refine variants below, each round's adapter scored on the tuning split
#            (cot); variants run side by side (meant for a GPU; on 2 CPU cores run one at a time);
#   final    picks the variant with the best tuning-split accuracy (ties: fewer rounds), and
#            evaluates SFT (labelled sft-run2: the shipped csqa300/sft row is the first run of the
#            same recipe; with TUNE_EVERY other than 50 every row is suffixed -t<tuning size>),
#            that variant and the paper's cot_vs_direct kind on 300 CSQA validation
#            (cot, zs) and 300 OBQA test (cot) questions, chat template, greedy;
#   heldtrain / valrest  SFT and the variants named in HELD / REST on 300 train questions outside
#            every split, and on the validation questions after the first LIMIT (no look read them);
#   ship     copies the lm-eval files (results_*.json and --log_samples) of the final and tuning
#            evaluations into DEST (4th argument; the repository's results folder) as
#            DEST/{csqa300,obqa300,tune195}/<run>/, with this machine's paths written portably
#            (OUT/work as out, the checkout as ., the home directory as ~): only path strings in
#            the results files' config change, no number does.
# Every phase skips what an earlier run of it finished. Scale knobs (for a toy check): N_SFT,
# N_REFINE, LIMIT, MAX_STEPS, GEN_BATCH, EVAL_BATCH, PARALLEL (0: one job at a time, for 2 CPU
# cores), ONLY (variant names). TUNE_EVERY: the tuning split holds every TUNE_EVERY-th CSQA train
# question (50: the 195 of TUNING.md; 20 gives ~487, which can see a smaller effect); it is fixed
# by `prepare`, since the SFT demonstrations and self-refine questions leave it out. A later look
# at the evaluation questions (docs/pages/tuning.md, Phase 4) sets `final`'s rule: MIN_GAIN (points
# over SFT on the tuning split), BEAT (a tuning-split variant folder the chosen one must also gain
# more questions than it loses against), CONFIRM_MIN_GAIN (points over SFT the chosen variant must
# also score on the heldtrain questions, with more gained than lost: the confirming split, on
# which no variant is chosen; run phase heldtrain for it first) and ROW_TAG (suffix of the
# self-refine rows, so an earlier look's rows stay).
set -euo pipefail
SHARED=$(realpath "$1")
OUT=$(realpath -m "$2")
PHASE=$3
N_SFT=${N_SFT:-2000}
N_REFINE=${N_REFINE:-1000}
LIMIT=${LIMIT:-300}
MAX_STEPS=${MAX_STEPS:-60}
GEN_BATCH=${GEN_BATCH:-256}
EVAL_BATCH=${EVAL_BATCH:-300}
PARALLEL=${PARALLEL:-1}
TUNE_EVERY=${TUNE_EVERY:-50}
RECIPES=harness_configs/recipes/smollm2-135m-instruct
W=$OUT/work
mkdir -p "$W" "$OUT/logs"
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1
A=(python3 -m training)
log() { echo "[$(date +%T)] $*"; }
source "$(dirname "$0")/resume.sh"  # resume_flag
tune_size() { wc -l <"$W/tune/tau__commonsense_qa/default/validation.jsonl"; }  # questions in the tuning split

BASE=${BASE:-$("${A[@]}" models pull smollm2-135m-instruct | tail -1)}

# SFT and the named variants' adapters, each scored once (cot) on DATA into OUT/<name>: score_split DATA OUT NAMES...
score_split() {
  local data=$1 out=$2 name peft
  shift 2
  for name in sft "$@"; do
    peft=$W/refine/$name
    [ "$name" = sft ] && peft=$W/sft
    [ -d "$out/$name" ] || evaluate "$name" "$peft" aligncot_csqa_cot "$data" "$out/$name"
  done
}

# name=NAME peft=DIR|none tasks=T1,T2 data=DIR out=DIR
evaluate() {
  local name=$1 peft=$2 tasks=$3 data=$4 out=$5 limit=${6:-}
  local peft_arg=""
  [ "$peft" != none ] && peft_arg=",peft=$peft"
  "${A[@]}" eval --model "name=$name,pretrained=$BASE$peft_arg,chat_template=true,batch_size=$EVAL_BATCH" \
    --tasks "$tasks" --output-dir "$out" --data-dir "$data" ${limit:+--limit $limit} >"$OUT/logs/eval-$name-$(basename "$out").log" 2>&1 || {
    echo "eval $name failed: see $OUT/logs/eval-$name-$(basename "$out").log"
    tail -5 "$OUT/logs/eval-$name-$(basename "$out").log"
    return 1
  }
}

# Self-refine variants: name|pairs_from|overrides. Variants differ in pair kind, NLL term (nllonly:
# the NLL term on the chosen answers alone, no preference term),
# learning rate, beta, pair balance (balance_pairs: chosen, as many pairs per gold letter as the
# rarest letter has; both, each letter as often chosen as rejected), questions kept (c2:
# min_correct_samples=2, only questions right in at least 2 of 4 samples) -- both applied at
# training, so they reuse civ-nll-r1's sampled pairs --, steps (s20: max_steps=20; e2: 120, two epochs of the
# 964 pairs; later on the command line than MAX_STEPS, wins) and rounds;
# everything else is dpo.yaml. pairs_from names an earlier variant whose
# round-1 pairs this one reuses (same pair kind and sampling settings, same SFT adapter: the
# same pairs), so it costs only its DPO training; "-" samples its own. civ-nll-2nd is round 2 of
# civ-nll-r1 without running round 1 again: one round that starts from civ-nll-r1's adapter
# (sft_adapter=, later on the command line than the default, wins), samples with it, trains it
# further against it as the reference; seed=1 samples with the seed (seed + round) that round 2 of
# a `rounds: 2` run uses. civ-nllonly-2nd is the same for civ-nllonly-r1: a second round of NLL on
# the student's own correct answers, sampled by the first round's adapter (STaR-style rounds);
# civ-nllonly-3rd is the third such round, from civ-nllonly-2nd's adapter with seed 2, and
# civ-nllonly-4th the fourth, from civ-nllonly-3rd's with seed 3. rft-r1 is
# round 1 of the NLL term alone done as STaR / RFT (pairs=correct_samples): every distinct correct
# sample of every question (all-right ones too), each once, through SFTTrainer -- no rejected
# forward, no reference log-probs; it samples with civ-nll-r1's seed from the same SFT adapter.
# rft-3rd does the same from civ-nllonly-2nd's adapter with civ-nllonly-3rd's seed.
VARIANTS=(
  "civ-nll-r1|-|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 rounds=1"
  "civ-nll-lr3-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=3.0e-4 rounds=1"
  "civ-nll-lr5-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=5.0e-4 rounds=1"
  "civ-nonll-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sigmoid] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1"
  "civ-nllonly-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sft] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1"
  "civ-nll-b5-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 beta=0.5 rounds=1"
  "civ-nll-bal-r1|civ-nll-r1|pairs=correct_vs_incorrect balance_pairs=chosen loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 rounds=1"
  "civ-nll-c2-r1|civ-nll-r1|pairs=correct_vs_incorrect min_correct_samples=2 loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 rounds=1"
  "civ-nll-s20-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 max_steps=20 rounds=1"
  "civ-nll-e2-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 max_steps=120 rounds=1"
  "civ-nll-both-r1|civ-nll-r1|pairs=correct_vs_incorrect balance_pairs=both loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 rounds=1"
  "civ-nll-r2|-|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 rounds=2"
  "civ-nll-2nd|-|pairs=correct_vs_incorrect loss_type=[sigmoid,sft] loss_weights=[1.0,1.0] learning_rate=1.0e-4 rounds=1 seed=1 sft_adapter=$W/refine/civ-nll-r1"
  "civ-nllonly-lr3-r1|civ-nll-r1|pairs=correct_vs_incorrect loss_type=[sft] loss_weights=[1.0] learning_rate=3.0e-4 rounds=1"
  "civ-nllonly-2nd|-|pairs=correct_vs_incorrect loss_type=[sft] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1 seed=1 sft_adapter=$W/refine/civ-nllonly-r1"
  "civ-nllonly-3rd|-|pairs=correct_vs_incorrect loss_type=[sft] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1 seed=2 sft_adapter=$W/refine/civ-nllonly-2nd"
  "civ-nllonly-4th|-|pairs=correct_vs_incorrect loss_type=[sft] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1 seed=3 sft_adapter=$W/refine/civ-nllonly-3rd"
  "rft-r1|-|pairs=correct_samples loss_type=[sft] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1"
  "rft-3rd|-|pairs=correct_samples loss_type=[sft] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1 seed=2 sft_adapter=$W/refine/civ-nllonly-2nd"
  "cvd-r1|-|pairs=cot_vs_direct keep_correct_only=true loss_type=[sigmoid] loss_weights=[1.0] learning_rate=1.0e-4 rounds=1"
)
# ONLY: space-separated variant names to run (default: all, in the order above).
ONLY=${ONLY:-}

refine() {  # one variant: self-refine, then each round's adapter on the tuning split
  local name=${1%%|*} rest=${1#*|}
  local from=${rest%%|*} overrides=${rest#*|}
  local dir=$W/refine/$name
  mkdir -p "$W/refine"
  if [ "$from" != - ] && [ ! -d "$dir.pairs" ] && [ ! -f "$dir/adapter_config.json" ]; then
    [ -d "$W/refine/$from.pairs" ] || { echo "variant $name reuses the pairs of $from: run $from first"; return 1; }
    cp -r "$W/refine/$from.pairs" "$dir.pairs"
  fi
  local start
  start=$(sed -n 's/.*sft_adapter=\([^ ]*\).*/\1/p' <<<"$overrides")
  if [ -n "$start" ] && [ ! -f "$start/adapter_config.json" ]; then
    echo "variant $name starts from $start: run that variant first"; return 1
  fi
  if [ ! -f "$dir/adapter_config.json" ]; then
    log "self-refine $name"
    # shellcheck disable=SC2086
    "${A[@]}" self-refine --recipe $RECIPES/dpo.yaml base_model="$BASE" data="$W/demos_refine" \
      sft_adapter="$W/sft" output_dir="$dir" max_steps="$MAX_STEPS" generation_batch_size="$GEN_BATCH" \
      $overrides $(resume_flag "$dir.run" "$dir.rounds") >"$OUT/logs/refine-$name.log" 2>&1 || {
      echo "self-refine $name failed"; tail -20 "$OUT/logs/refine-$name.log"; return 1; }
  fi
  local rounds_dir=$dir.rounds
  if [ -d "$rounds_dir" ]; then
    for r in "$rounds_dir"/round-*; do
      [ -d "$W/tune_eval/$name-$(basename "$r")" ] || evaluate "$name-$(basename "$r")" "$r/adapter" aligncot_csqa_cot "$W/tune" "$W/tune_eval/$name-$(basename "$r")"
    done
  else
    [ -d "$W/tune_eval/$name-round-1" ] || evaluate "$name-round-1" "$dir" aligncot_csqa_cot "$W/tune" "$W/tune_eval/$name-round-1"
  fi
  log "done $name"
}

case $PHASE in
prepare)
  export ALIGNCOT_DATA_DIR=$SHARED/data
  [ -f "$W/tune/tuning_questions.txt" ] || "${A[@]}" data tuning-split --benchmark csqa --every "$TUNE_EVERY" --out "$W/tune"
  [ -d "$W/ann" ] || "${A[@]}" annotate --task aligncot_csqa_cot --import "$SHARED/teachers/csqa_palm-540b_train.jsonl" \
    --exclude-questions "$W/tune/tuning_questions.txt" --out "$W/ann" --quiet
  [ -d "$W/demos_sft" ] || "${A[@]}" demos "$W/ann" --balance "$N_SFT" --val-fraction 0.02 --out "$W/demos_sft"
  # Self-refine questions: another class-balanced sample of train questions (seed 1), none of
  # them an SFT demonstration's or a tuning question (the same rows as importing the teacher
  # file without those questions and drawing from that, bar each row's `source` directory).
  [ -d "$W/demos_refine" ] || "${A[@]}" demos "$W/ann" --balance "$N_REFINE" --val-fraction 0.06 --seed 1 \
    --exclude-questions "$W/tune/tuning_questions.txt" --exclude-questions "$W/demos_sft/questions.txt" \
    --out "$W/demos_refine"
  if [ ! -f "$W/sft/adapter_config.json" ]; then
    log "sft"
    "${A[@]}" sft --recipe $RECIPES/sft.yaml base_model="$BASE" data="$W/demos_sft" output_dir="$W/sft" \
      logging_steps=10 $(resume_flag "$W/sft.run") >"$OUT/logs/sft.log" 2>&1 || { tail -20 "$OUT/logs/sft.log"; exit 1; }
  fi
  log "prepared"
  ;;
tune)
  fail=0
  if [ "$PARALLEL" = 1 ]; then
    [ -d "$W/tune_eval/sft" ] || evaluate sft "$W/sft" aligncot_csqa_cot "$W/tune" "$W/tune_eval/sft" &
  else
    [ -d "$W/tune_eval/sft" ] || evaluate sft "$W/sft" aligncot_csqa_cot "$W/tune" "$W/tune_eval/sft" || fail=1
  fi
  pids=()
  for v in "${VARIANTS[@]}"; do
    [ -z "$ONLY" ] || [[ " $ONLY " == *" ${v%%|*} "* ]] || continue
    if [ "$PARALLEL" = 1 ]; then refine "$v" & pids+=($!); else refine "$v" || fail=1; fi
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  wait || fail=1
  python3 -m training leaderboard "$W/tune_eval" --out-dir "$OUT/tune_leaderboard" >/dev/null 2>&1 || true
  exit $fail
  ;;
final)
  # The rule fixed before scoring (docs/pages/tuning.md, Phase 4): the first run (TUNE_EVERY=50)
  # evaluates its best variant; a later one goes to the evaluation questions again only if its best
  # variant beats SFT on the tuning split by MIN_GAIN points with more questions gained than lost.
  if [ "$TUNE_EVERY" = 50 ]; then MIN_GAIN=${MIN_GAIN:-none}; else MIN_GAIN=${MIN_GAIN:-2}; fi
  best=$(python3 - "$W/tune_eval" "$MIN_GAIN" "${BEAT:-}" "${CONFIRM_MIN_GAIN:-}" "$W/heldtrain_eval" <<'EOF'
import json, pathlib, sys
from training.evaluate.compare import compare_runs, load_run
root, min_gain, beat = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
confirm_gain, held = sys.argv[4], pathlib.Path(sys.argv[5])
rows = []
for d in sorted(root.iterdir()):
    if d.name == "sft" or d.name.startswith("cvd-"):
        continue
    res = next(d.rglob("results_*.json"))
    acc = json.loads(res.read_text())["results"]["aligncot_csqa_cot"]["acc,none"]
    name, _, rnd = d.name.rpartition("-round-")
    rows.append((-acc, int(rnd), name, d))
rows.sort()
_, rnd, name, d = rows[0]
best = load_run(d)

def against(other, run=best, where=root):  # a run against another folder: (points, gained, lost)
    (line,), _ = compare_runs(run, load_run(where / other), ["aligncot_csqa_cot"])
    return 100 * (line.result.acc_a - line.result.acc_b), line.result.only_a, line.result.only_b

if min_gain != "none":
    gain, gained, lost = against("sft")
    if gain < float(min_gain) or gained <= lost:
        sys.exit(f"best variant {d.name}: {gain:+.1f} points over SFT on the tuning split ({gained} gained, "
                 f"{lost} lost); the rule asks for +{min_gain} with more gained than lost: no evaluation")
if beat:
    if not (root / beat).is_dir():
        sys.exit(f"BEAT={beat}: no such variant folder in {root}")
    _, gained, lost = against(beat)
    if gained <= lost:
        sys.exit(f"best variant {d.name} against {beat}: {gained} gained, {lost} lost; the rule asks for "
                 "more gained than lost: no evaluation")
if confirm_gain:
    if not (held / name).is_dir() or not (held / "sft").is_dir():
        sys.exit(f"CONFIRM_MIN_GAIN: no heldtrain scores for sft and {name} in {held}: run phase heldtrain "
                 f"with HELD={name} first")
    gain, gained, lost = against("sft", load_run(held / name), held)
    if gain < float(confirm_gain) or gained <= lost:
        sys.exit(f"best variant {d.name}: {gain:+.1f} points over SFT on the heldtrain questions ({gained} "
                 f"gained, {lost} lost); the rule asks for +{confirm_gain} with more gained than lost: no evaluation")
print(name, rnd)
EOF
)
  set -- $best
  variant=$1 round=$2
  adapter=$W/refine/$variant
  [ -d "$W/refine/$variant.rounds" ] && adapter=$W/refine/$variant.rounds/round-$round/adapter
  log "chosen on the tuning split: $variant round $round ($adapter)"
  echo "$variant round $round" >"$OUT/chosen.txt"
  export ALIGNCOT_DATA_DIR=$SHARED/data
  # The first run of this experiment (TUNE_EVERY=50) shipped rows sft-run2, sft-refine and
  # sft-refine-cvd; a run on another tuning split has another SFT student (its demonstrations
  # leave out other questions), so its rows carry the split's size: sft-t488, sft-refine-t488, ...
  n_tune=$(tune_size)
  sft_name=sft-run2 tag=""
  [ "$TUNE_EVERY" = 50 ] || { sft_name=sft-t$n_tune; tag=-t$n_tune; }
  specs=("$sft_name|$W/sft" "sft-refine$tag${ROW_TAG:-}|$adapter")
  [ -f "$W/refine/cvd-r1/adapter_config.json" ] && specs+=("sft-refine-cvd$tag|$W/refine/cvd-r1")
  for spec in "${specs[@]}"; do
    name=${spec%%|*} peft=${spec#*|}
    for job in "aligncot_csqa_cot,aligncot_csqa_zs|csqa300" "aligncot_obqa_cot|obqa300"; do
      tasks=${job%%|*} where=${job#*|}
      [ -d "$OUT/$where/$name" ] && continue
      if [ "$PARALLEL" = 1 ]; then
        evaluate "$name" "$peft" "$tasks" "$SHARED/data" "$OUT/$where/$name" "$LIMIT" &
      else
        evaluate "$name" "$peft" "$tasks" "$SHARED/data" "$OUT/$where/$name" "$LIMIT"
      fi
    done
  done
  wait
  log "final done"
  ;;
heldtrain)
  # 300 CSQA train questions outside every split (train rows with index % 20 == 10, the first 300
  # that are no tuning, SFT-demonstration or self-refine question), scored like the tuning split for
  # SFT and the variants named in HELD ("civ-nllonly-r1 civ-nllonly-3rd"): do tuning-split gains hold?
  mkdir -p "$W/heldtrain/tau__commonsense_qa/default"
  python3 - "$SHARED/data/tau__commonsense_qa/default/train.jsonl" "$W" <<'EOF'
import json, pathlib, sys
from training.data_split import question_key, read_keys
train, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
used = set().union(*(read_keys(work / f) for f in
                     ("tune/tuning_questions.txt", "demos_sft/questions.txt", "demos_refine/questions.txt")))
rows = [json.loads(line) for line in train.read_text(encoding="utf-8").splitlines() if line.strip()]
held = [r for i, r in enumerate(rows) if i % 20 == 10 and question_key(r) not in used][:300]
out = work / "heldtrain" / "tau__commonsense_qa" / "default" / "validation.jsonl"
out.write_text("".join(json.dumps(r) + "\n" for r in held), encoding="utf-8")
EOF
  # shellcheck disable=SC2086
  score_split "$W/heldtrain" "$W/heldtrain_eval" ${HELD:-}
  ;;
valrest)
  # The CSQA validation questions after the first LIMIT (921 of 1221 for 300), which no look has
  # read: SFT and the variants named in REST, scored once (cot), nothing chosen on them; the
  # target stays defined on the first LIMIT (docs/pages/tuning.md, Phase 4).
  mkdir -p "$W/valrest/tau__commonsense_qa/default"
  tail -n +"$((LIMIT + 1))" "$SHARED/data/tau__commonsense_qa/default/validation.jsonl" \
    >"$W/valrest/tau__commonsense_qa/default/validation.jsonl"
  # shellcheck disable=SC2086
  score_split "$W/valrest" "$W/valrest_eval" ${REST:-}
  ;;
ship)
  DEST=${4:?ship needs DEST: bash self_refine_csqa.sh SHARED OUT ship DEST}
  # REPO: the checkout the evaluations ran in (lm-eval names its task files by path); default: here
  # the tuning files' slice is named by the split's size (tune195 for TUNE_EVERY=50)
  n_tune=$(tune_size)
  python3 harness_configs/experiments/ship_results.py "$DEST" "$W" \
    "$OUT/csqa300=csqa300" "$OUT/obqa300=obqa300" "$W/tune_eval=tune$n_tune"
  ;;
*)
  echo "unknown phase $PHASE (prepare, tune, final, heldtrain, valrest, ship)" >&2
  exit 2
  ;;
esac
