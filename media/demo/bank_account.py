"""A small ledger with nested helpers: replays deposit/withdraw commands from stdin."""
import sys


def replay(commands):
    balance = 0
    log = []

    def apply(kind, amount):
        nonlocal balance
        if kind == "deposit":
            balance += amount
        elif kind == "withdraw":
            if amount > balance:
                return False
            balance -= amount
        else:
            raise ValueError(f"unknown command {kind!r}")
        return True

    for line in commands:
        parts = line.split()
        if len(parts) != 2:
            continue
        kind, amount = parts[0], int(parts[1])
        ok = apply(kind, amount)
        log.append("ok" if ok else "refused")
    return balance, log


def main():
    lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
    balance, log = replay(lines)
    for entry in log:
        print(entry)
    print(balance)


if __name__ == "__main__":
    main()
