"""Runs the published StructureCoder sampling functions on prepared inputs; prints their outputs.

Usage: python3 sampling_driver.py STRUCTURECODER_DIR < items.json > published.json
Each item is {"question", "pre", "mid", "suf", "type", "outputs": [...]}; each result is
{"start", "prompt", "posts"}: what the published `extract_type(mid)` gives (null where it raises),
`consturct_fim(item, start)` and `post(start + output, type)` for every output. The four functions
are taken out of the checkout's src/construct.py with `ast` (so vllm/torch need not be installed)
and run there; nothing of their logic is written here.
"""
import ast
import json
import os
import re
import sys
import types


def load(repo):
    with open(os.path.join(repo, 'src', 'construct.py'), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ('transfer', 'extract_type', 'post', 'consturct_fim')]
    assert len(keep) == 4, [n.name for n in keep]
    template = types.ModuleType('template')
    with open(os.path.join(repo, 'src', 'utils', 'template.py'), encoding='utf-8') as f:
        exec(f.read(), template.__dict__)
    ns = {'template': template, 'args': types.SimpleNamespace(mode='qwen')}
    exec('import re', ns)
    exec(compile(ast.Module(body=keep, type_ignores=[]), 'construct.py', 'exec'), ns)
    return ns


def main():
    ns = load(sys.argv[1])
    out = []
    for d in json.load(sys.stdin):
        try:
            start = ns['extract_type'](d['mid'])
            given = start
        except AssertionError:
            # The published code asserts that the first word is a keyword (`if(x):` fails); the
            # prompt and post-processing are still recorded, with the keyword as the start.
            start = None
            given = re.match(r'\s*(if|for|while|def)', d['mid']).group(0)
        out.append({'start': start, 'prompt': ns['consturct_fim'](d, start=given), 'posts': [ns['post'](given + o, d['type']) for o in d['outputs']]})
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == '__main__':
    main()
