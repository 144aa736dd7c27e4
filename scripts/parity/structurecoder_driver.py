"""Runs the published StructureCoder cut on each input and prints what it returns, nothing more.

Usage: python3 structurecoder_driver.py STRUCTURECODER_DIR < inputs.jsonl > outputs.jsonl
Each input line is {"id": ..., "code": ...}; each output line is {"id", "targets": [...]} with the
published function's dicts in its order (pre/suf as SHA-1 + length to keep the output small).
The published function is imported from the given checkout; its logic is not copied here.
"""
import hashlib
import importlib.util
import json
import os
import sys


def load_published(repo):
    path = os.path.join(repo, 'src', 'data', 'process.py')
    spec = importlib.util.spec_from_file_location('structurecoder_process', path)
    module = importlib.util.module_from_spec(spec)
    cwd = os.getcwd()
    spec.loader.exec_module(module)  # the module chdirs to its folder on import
    os.chdir(cwd)
    return module


def digest(s):
    b = s.encode('utf-8', 'surrogatepass')
    return {'sha1': hashlib.sha1(b).hexdigest(), 'len': len(b)}


def main():
    published = load_published(sys.argv[1])
    for line in sys.stdin:
        item = json.loads(line)
        # The published fim() strips each solution before calling fill_in_the_middle_prompt.
        outs = published.fill_in_the_middle_prompt(item['code'].strip())
        targets = [
            {'type': o['type'], 'depth': o['depth'], 'mid': o['mid'], 'pre': digest(o['pre']), 'suf': digest(o['suf'])}
            for o in outs
        ]
        sys.stdout.write(json.dumps({'id': item['id'], 'targets': targets}) + '\n')


if __name__ == '__main__':
    main()
