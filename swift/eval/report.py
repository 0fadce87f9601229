"""Result tables (dataset, subset, metric, score, n), the JSON report, and the per-checkpoint comparison + plot."""
import json
import os
from typing import Dict, List, Optional

from swift.utils.atomic import open_staged

COLUMNS = ('dataset', 'subset', 'metric', 'score', 'n')


def _cell(row: dict, key: str) -> str:
    value = row.get(key)
    if key == 'score':
        return 'unavailable' if value is None else f'{value:.4f}'
    return '-' if value is None else str(value)


def format_table(rows: List[dict], columns=COLUMNS) -> str:
    cells = [[_cell(r, c) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    lines = ['  '.join(c.ljust(w) for c, w in zip(columns, widths)), '  '.join('-' * w for w in widths)]
    lines += ['  '.join(v.ljust(w) for v, w in zip(line, widths)) for line in cells]
    return '\n'.join(lines)


def write_report(path: str, rows: List[dict], meta: Dict) -> str:
    with open_staged(path) as f:
        json.dump({**meta, 'results': rows}, f, ensure_ascii=False, indent=2)
    return path


def comparison(results: Dict[str, List[dict]]) -> List[dict]:
    """One row per (dataset, subset, metric) with a score column per checkpoint."""
    table: Dict[tuple, dict] = {}
    for label, rows in results.items():
        for r in rows:
            key = (r['dataset'], r['subset'], r['metric'])
            table.setdefault(key, dict(zip(('dataset', 'subset', 'metric'), key)))[label] = r['score']
    return list(table.values())


def format_comparison(rows: List[dict], labels: List[str]) -> str:
    columns = ('dataset', 'subset', 'metric', *labels)
    printable = [{**r, **{lb: ('unavailable' if r.get(lb) is None else f'{r[lb]:.4f}') for lb in labels}}
                 for r in rows]
    cells = [[str(r.get(c, '-')) for c in columns] for r in printable]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    lines = ['  '.join(c.ljust(w) for c, w in zip(columns, widths)), '  '.join('-' * w for w in widths)]
    return '\n'.join(lines + ['  '.join(v.ljust(w) for v, w in zip(line, widths)) for line in cells])


def plot_comparison(path: str, rows: List[dict], labels: List[str], max_lines: int = 12) -> Optional[str]:
    """Score per checkpoint, one line per (dataset, metric); metrics without scores are left out."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(max(6, len(labels) * 1.2), 4.5))
    drawn = 0
    for r in rows:
        ys = [r.get(lb) for lb in labels]
        if all(y is None for y in ys) or drawn >= max_lines:
            continue
        ax.plot(range(len(labels)), [float('nan') if y is None else y for y in ys], marker='o',
                label=f"{r['dataset']}/{r['subset']} {r['metric']}")
        drawn += 1
    ax.set_xticks(range(len(labels)), [os.path.basename(lb.rstrip('/')) for lb in labels], rotation=30, ha='right')
    ax.set_ylabel('score')
    ax.set_title('score per checkpoint')
    if drawn:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
