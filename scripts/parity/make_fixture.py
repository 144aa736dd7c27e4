"""Fills in the published StructureCoder output for the unit-test cases.

Usage: python3 scripts/parity/make_fixture.py STRUCTURECODER_DIR test/fixtures/blocks/structurecoder-cases.json
Reads {"cases": {name: code}} from the file and writes back {"cases", "published": {name: [...]}}
where each list is what the published fill_in_the_middle_prompt(code.strip()) returns (their
function, imported from their checkout; only its output is stored).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from structurecoder_driver import load_published  # noqa: E402


def main():
    repo, fixture = sys.argv[1], sys.argv[2]
    with open(fixture, encoding='utf-8') as f:
        data = json.load(f)
    published = load_published(repo)
    data['published'] = {name: published.fill_in_the_middle_prompt(code.strip()) for name, code in data['cases'].items()}
    with open(fixture, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
