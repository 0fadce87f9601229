"""ms-swift's SwanLab arguments (002 "SWANLAB"), given to SwanLab's own transformers callback with `--report_to
swanlab` (swift.trainers.callbacks.swanlab_callbacks), and which reporters transformers gets."""
import importlib.util
from dataclasses import dataclass
from typing import List, Literal, Optional, Sequence

from swift.utils import ArgumentError
from .groups import _help


@dataclass
class SwanlabArguments:
    group_title = 'SwanLab arguments (with --report_to swanlab)'
    swanlab_token: Optional[str] = _help('SwanLab API key; default: $SWANLAB_API_KEY or a saved `swanlab login`.',
                                         default=None)
    swanlab_project: Optional[str] = _help('SwanLab project (created on the SwanLab page first).', default=None)
    swanlab_workspace: Optional[str] = _help("Workspace; default: the API key's user.", default=None)
    swanlab_exp_name: Optional[str] = _help('Experiment name; default: --output_dir.', default=None)
    swanlab_mode: Literal['cloud', 'local', 'offline', 'disabled'] = _help(
        "cloud (upload), local (SwanLab's local dashboard, needs swanboard), offline (files in "
        'output_dir/swanlog, `swanlab sync` later) or disabled.', default='cloud')

    def _validate_swanlab(self):
        if 'swanlab' in self.report_to or 'all' in self.report_to:
            return
        names = ('swanlab_token', 'swanlab_project', 'swanlab_workspace', 'swanlab_exp_name')
        given = [f'--{n}' for n in names if getattr(self, n) is not None]
        given += ['--swanlab_mode'] if self.swanlab_mode != 'cloud' else []
        if given:
            raise ArgumentError(f'{given[0]} is read only when reporting to SwanLab: add --report_to swanlab '
                                f'(now {" ".join(self.report_to)}) or drop it.')


def reporters(report_to: Sequence[str]) -> List[str]:
    """The --report_to list for transformers. SwanLab is left out: transformers' own SwanLab callback does not work
    with current swanlab (its `get_run()` raises when no run is active), so swanlab's callback is added instead."""
    names = [r for r in report_to if r not in ('none', 'swanlab')]
    if 'all' in names:
        from transformers.integrations import get_available_reporting_integrations
        names = [r for r in get_available_reporting_integrations() if r != 'swanlab']
    return names


def reports_to_swanlab(report_to: Sequence[str]) -> bool:
    return 'swanlab' in report_to or ('all' in report_to and importlib.util.find_spec('swanlab') is not None)
