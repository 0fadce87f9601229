import csv
import json
import logging

import pytest

from swift.utils import get_logger


@pytest.fixture
def write(tmp_path):
    """write(name, rows) -> path; rows are dicts (jsonl/json/csv) or raw lines (str)."""

    def _write(name, rows):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith('.json'):
            path.write_text(json.dumps(rows, ensure_ascii=False), encoding='utf-8')
        elif name.endswith('.csv'):
            with open(path, 'w', newline='', encoding='utf-8') as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        else:
            lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
            path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
        return str(path)

    return _write


@pytest.fixture
def swift_log(caplog):
    """The project logger does not propagate; attach caplog's handler to it directly."""
    logger = get_logger()
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger='swift')
    yield caplog
    logger.removeHandler(caplog.handler)
