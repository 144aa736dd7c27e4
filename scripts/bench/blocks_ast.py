"""Baseline for scripts/bench/blocks-throughput.mjs: the structurecoder blocks with Python's `ast`.

Usage: python3 blocks_ast.py --procs N FILE... (or --list FILE with one path per line)
Per file, in a multiprocessing pool: read, .strip(), the published comment removal, ast.parse,
a post-order walk giving if/for/while/def blocks with their depth, then the published filters
(middles starting with `elif`, defs with `_` before the first `(`). Each worker returns the
prepared code and the (kind, depth, start, end) spans to the parent, as our workers do.
Prints one JSON line: files, bytes, targets, seconds (pool start to last result).
"""
import argparse
import ast
import json
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
        code = strip_comments(f.read().strip())
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return path, code, []
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
    return path, code, spans


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--procs', type=int, default=2)
    ap.add_argument('--list')
    ap.add_argument('files', nargs='*')
    args = ap.parse_args()
    files = list(args.files)
    if args.list:
        with open(args.list, encoding='utf-8') as f:
            files += [line.rstrip('\n') for line in f if line.strip()]
    start = time.perf_counter()
    total_bytes = targets = 0
    with Pool(args.procs) as pool:
        for _path, code, spans in pool.imap(blocks_of, files, chunksize=4):
            total_bytes += len(code.encode('utf-8', 'surrogatepass'))
            targets += len(spans)
    seconds = time.perf_counter() - start
    print(json.dumps({'files': len(files), 'prepared_bytes': total_bytes, 'targets': targets, 'seconds': seconds}))


if __name__ == '__main__':
    main()
