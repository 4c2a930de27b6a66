#!/usr/bin/env bash
# Accuracy and time of L2T-ww's cost reducers on the quickstart, 3 seeds each
# (docs/performance.md). Usage: bash scripts/cost_reducers.sh OUT_DIR
set -euo pipefail
out=${1:?usage: bash scripts/cost_reducers.sh OUT_DIR}
declare -A variants=(
  [exact]=""
  [first_order]="--config.transfer.first_order=True"
  [meta_every_2]="--config.transfer.meta_every=2"
  [meta_every_4]="--config.transfer.meta_every=4"
)
for seed in 0 1 2; do
  python main.py --config=configs/quickstart.py --config.method=scratch \
    --config.seed=$seed --config.train.verbose=0 --workdir="$out/scratch/$seed"
  for name in exact first_order meta_every_2 meta_every_4; do
    # shellcheck disable=SC2086
    python main.py --config=configs/quickstart.py --config.method=l2t_ww \
      --config.seed=$seed --config.train.verbose=0 ${variants[$name]} \
      --workdir="$out/$name/$seed"
  done
done
python - "$out" <<'PY'
import json, pathlib, statistics, sys
root = pathlib.Path(sys.argv[1])
print("| variant | test acc (mean ± std, 3 seeds) | val acc | seconds per run |")
print("|---|---|---|---|")
for variant in ("scratch", "exact", "first_order", "meta_every_2", "meta_every_4"):
  runs = [json.loads(p.read_text()) for p in sorted(root.glob(f"{variant}/*/results.json"))]
  test = [100 * r["test_accuracy"] for r in runs]
  val = [100 * r["val_accuracy"] for r in runs]
  secs = [r["seconds"] for r in runs]
  print(f"| {variant} | {statistics.mean(test):.2f} ± {statistics.stdev(test):.2f} "
        f"| {statistics.mean(val):.2f} ± {statistics.stdev(val):.2f} "
        f"| {statistics.mean(secs):.0f} |")
PY
