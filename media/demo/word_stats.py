"""Word statistics for a text read from stdin: the demo file for PairForge's block highlights."""
import sys


def tokenize(text):
    words = []
    current = []
    for ch in text:
        if ch.isalnum() or ch == "'":
            current.append(ch.lower())
        elif current:
            words.append("".join(current))
            current = []
        else:
            continue
    if current:
        words.append("".join(current))
    return words


def summarize(words, top):
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1

    def rank(item):
        word, count = item
        return (-count, word)

    ordered = sorted(counts.items(), key=rank)
    lines = []
    index = 0
    while index < len(ordered) and index < top:
        word, count = ordered[index]
        lines.append(f"{count:4d} {word}")
        index += 1
    return lines


def main():
    text = sys.stdin.read()
    words = tokenize(text)
    if not words:
        print("no words")
        return
    for line in summarize(words, 5):
        print(line)
    print(f"{len(words)} words, {len(set(words))} distinct")


if __name__ == "__main__":
    main()
