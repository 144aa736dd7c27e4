"""Baseline for scripts/bench/blocks-throughput.mjs: the structurecoder blocks with Python's `ast`.

Usage: python3 blocks_ast.py --procs N FILE... (or --list FILE with one path per line)
Per file, in a multiprocessing pool: read, .strip(), the published comment removal, ast.parse,
a post-order walk giving if/for/while/def blocks with their depth, then the published filters
(middles starting with `elif`, defs with `_` before the first `(`). Each worker returns the
prepared code and the (kind, depth, start, end) spans to the parent, as our workers do.
Prints one JSON line: files, prepared_chars, targets, seconds (pool start to last result),
cpu_seconds (this process and the pool's, same interval).

python3 blocks_ast.py --jsonl: the test oracle (test/integration/blocks/astOracle.test.ts). Reads one
JSON string (a source) per line on stdin and writes one JSON line per source: {"code", "spans":
[[kind, depth, start, end], ...], "error": null | [exception class, line, message]}.
"""
import argparse
import ast
import json
import resource
import sys
import time
from multiprocessing import Pool

sys.setrecursionlimit(10000)

KINDS = {ast.If: 'if', ast.For: 'for', ast.While: 'while', ast.FunctionDef: 'def'}


def strip_comments(code):
    out = []
    for line in code.split('\n'):
        if line.strip().startswith('#'):
            continue
        if '#' in line:
            line = line.split('#')[0].rstrip()
        out.append(line)
    return '\n'.join(out)


def walk(node, out):
    depth = 0
    for child in ast.iter_child_nodes(node):
        d = walk(child, out)
        if d > depth:
            depth = d
    kind = KINDS.get(type(node))
    if kind is not None:
        depth += 1
        out.append((kind, depth, node.lineno - 1, node.end_lineno - 1))
    return depth


def blocks_of(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        code, spans, _error = analyse(f.read())
    return path, code, spans


def analyse(source):
    """The prepared code, its spans, and why ast.parse rejected it (or None)."""
    code = strip_comments(source.strip())
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return code, [], (type(e).__name__, e.lineno, e.msg)
    except (ValueError, RecursionError, MemoryError) as e:
        return code, [], (type(e).__name__, None, str(e))
    found = []
    walk(tree, found)
    lines = code.split('\n')
    spans = []
    for kind, depth, s, e in found:
        first = lines[s] if s < len(lines) else ''
        if first.strip().startswith('elif'):
            continue
        if kind == 'def' and '_' in first.split('(')[0]:
            continue
        spans.append((kind, depth, s, e))
    return code, spans, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--procs', type=int, default=2)
    ap.add_argument('--list')
    ap.add_argument('--jsonl', action='store_true')
    ap.add_argument('files', nargs='*')
    args = ap.parse_args()
    if args.jsonl:
        for line in sys.stdin:
            code, spans, error = analyse(json.loads(line))
            print(json.dumps({'code': code, 'spans': spans, 'error': error}))
        return
    files = list(args.files)
    if args.list:
        with open(args.list, encoding='utf-8') as f:
            files += [line.rstrip('\n') for line in f if line.strip()]
    start = time.perf_counter()
    cpu_start = cpu_seconds()
    prepared_chars = targets = 0
    with Pool(args.procs) as pool:
        for _path, code, spans in pool.imap(blocks_of, files, chunksize=4):
            prepared_chars += len(code)
            targets += len(spans)
        pool.close()
        pool.join()  # so the workers' CPU time is counted (RUSAGE_CHILDREN)
    seconds = time.perf_counter() - start
    print(json.dumps({'files': len(files), 'prepared_chars': prepared_chars, 'targets': targets, 'seconds': seconds,
                      'cpu_seconds': cpu_seconds() - cpu_start}))


def cpu_seconds():
    """User + system CPU time of this process and its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == '__main__':
    main()
