"""Count shortest paths through a grid with walls (BFS), read from stdin.

Input: H W, then H lines of '.' (free) and '#' (wall). Output: the number of shortest paths
from the top-left to the bottom-right cell modulo 1_000_000_007, or -1 when unreachable.
"""
from collections import deque
import sys

MOD = 1_000_000_007


def solve(grid):
    h, w = len(grid), len(grid[0])
    if grid[0][0] == "#" or grid[h - 1][w - 1] == "#":
        return -1
    dist = [[-1] * w for _ in range(h)]
    ways = [[0] * w for _ in range(h)]
    dist[0][0] = 0
    ways[0][0] = 1
    queue = deque([(0, 0)])
    while queue:
        r, c = queue.popleft()
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if not (0 <= nr < h and 0 <= nc < w) or grid[nr][nc] == "#":
                continue
            if dist[nr][nc] == -1:
                dist[nr][nc] = dist[r][c] + 1
                ways[nr][nc] = ways[r][c]
                queue.append((nr, nc))
            elif dist[nr][nc] == dist[r][c] + 1:
                ways[nr][nc] = (ways[nr][nc] + ways[r][c]) % MOD
    if dist[h - 1][w - 1] == -1:
        return -1
    return ways[h - 1][w - 1]


def main():
    data = sys.stdin.read().split()
    h, w = int(data[0]), int(data[1])
    grid = data[2 : 2 + h]
    print(solve(grid))


if __name__ == "__main__":
    main()
