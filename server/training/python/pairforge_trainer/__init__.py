"""PairForge's masked-DPO trainer (docs/training.md).

Reads a PairForge TRL export, trains with TRL's DPOTrainer on the log-probs of the tokens its loss
spans mark, and writes metrics, the model and held-out per-token log-probs into a run folder.
Only files connect it to the engine; it never reads the project.
"""

# The run folder layout version written into status.json and run.json; bump it when a file's
# meaning changes, so the engine can refuse what it does not understand.
RUN_FORMAT = 1
