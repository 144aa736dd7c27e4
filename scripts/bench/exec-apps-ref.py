# Independent Python rendering of the APPS harness's stdin/stdout cascade (from the facts in docs/published.md "Datasets and their harnesses"),
# the oracle of scripts/bench/exec-apps-parity.mjs for server/exec/compare.ts (apps comparator and round(x, 3)).
# Reads JSON {"pairs": [[stdout, expected], ...], "floats": [...]} on stdin; needs numpy.
import json, sys
import numpy as np
def apps(stdout, expected):
    output = stdout.splitlines()
    gt = expected
    o1 = "\n".join(output)
    if o1.strip() == gt.strip(): return True
    o2 = "\n".join([o.strip() for o in output])
    if o2.strip() == gt.strip(): return True
    if output == [gt]: return True
    gtl = gt.split("\n"); gtl = list(filter(len, gtl)); gtl = [x.strip() for x in gtl]
    if output == [gtl] or output == gtl: return True
    out = list(filter(len, output))
    if out == [gtl] or out == gtl: return True
    res = False
    try:
        of = [float(e) for e in out]; gf = [float(e) for e in gtl]
        res = res or (len(of) == len(gf) and np.allclose(of, gf))
    except Exception: pass
    if res: return True
    gts = [set(i.split()) for i in gtl]
    if out == gts: return True
    outs = [i.split() for i in out]; outs = list(filter(len, outs)); outs = [set(i) for i in outs]
    try: res = set(frozenset(s) for s in outs) == set(frozenset(s) for s in gts)
    except Exception: pass
    try: res = res or (set(frozenset(round(float(t), 3) for t in s) for s in outs) == set(frozenset(round(float(t), 3) for t in s) for s in gts))
    except Exception: pass
    return bool(res)
data = json.load(sys.stdin)
print(json.dumps({'pairs': [apps(a, b) for a, b in data['pairs']], 'rounded': [repr(round(float(x), 3)) for x in data['floats']]}))
