"""PairForge's masked-DPO trainer: the script `python`, `accelerate launch` and `torchrun` run
(docs/training.md "Command line").

  python train.py train --run-dir RUN [--tiny]
  python train.py check --run-dir RUN [--tiny]
  python train.py env
"""

import sys

from pairforge_trainer.cli import main

if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
