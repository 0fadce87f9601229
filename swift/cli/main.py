"""`swift <command> [--args]`: a route table from command name to pipeline entry point."""
import importlib
import os
import sys
from typing import Callable, Dict, List, NamedTuple, Optional

from swift.utils import ArgumentError, SwiftError, did_you_mean


class Route(NamedTuple):
    target: Optional[str]  # 'module:function' taking argv; None = not built yet
    help: str
    distributed: bool = False


ROUTES: Dict[str, Route] = {
    'sft': Route('swift.pipelines.sft:sft_main', 'Supervised fine-tuning: full parameters or adapters (LoRA, ...).',
                 True),
    'pt': Route('swift.pipelines.sft:pt_main', 'Pre-training on raw text: generation template, loss on all tokens.',
                True),
    'rlhf': Route('swift.pipelines.rlhf:rlhf_main',
                  'Preference and RL training: dpo, orpo, simpo, cpo, kto, rm, ppo, grpo.', True),
    'infer': Route('swift.pipelines.infer:infer_main', 'Chat in the terminal or run a dataset through a model.',
                   True),
    'deploy': Route('swift.pipelines.deploy:deploy_main', 'Serve a model behind an OpenAI-compatible HTTP API.'),
    'export': Route('swift.pipelines.export:export_main',
                    'Merge adapters, quantize, export GGUF/Ollama, push to a hub.'),
    'merge-lora': Route('swift.pipelines.export:merge_lora_main', 'Shortcut for `swift export --merge_lora true`.'),
    'eval': Route('swift.pipelines.eval:eval_main',
                  'Evaluate a model or an OpenAI-compatible endpoint on benchmarks or dataset files.'),
    'sample': Route('swift.pipelines.sample:sample_main',
                    'Sample completions and score them with reward models.', True),
    'app': Route('swift.pipelines.app:app_main', 'A Gradio chat app in front of a model.'),
    'web-ui': Route('swift.pipelines.webui:webui_main', 'The Gradio web UI for training, inference and export.'),
    'list': Route('swift.cli.listing:list_main', 'List registered models, templates, datasets or plugins.'),
}


def _usage() -> str:
    from swift.version import __version__
    width = max(map(len, ROUTES))
    lines = [f'swift {__version__}: fine-tune, align, serve, evaluate and export LLMs.', '',
             'usage: swift <command> [--argument value ...]   (swift <command> --help for its arguments)', '',
             'commands:']
    for name, route in ROUTES.items():
        note = '' if route.target else ' (not available in this version yet)'
        lines.append(f'  {name:<{width}}  {route.help}{note}')
    lines += ['', 'Set NPROC_PER_NODE (and NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT) to run sft/pt/rlhf/infer/'
              'sample under torchrun.']
    return '\n'.join(lines)


def _resolve(command: str) -> Callable[[List[str]], object]:
    if command not in ROUTES:
        raise ArgumentError(f'unknown command {command!r}.{did_you_mean(command, ROUTES)} '
                            f'Run `swift --help` for the list.')
    route = ROUTES[command]
    if route.target is None:
        raise SwiftError(f'`swift {command}` is not available in this version yet.')
    module, func = route.target.split(':')
    return getattr(importlib.import_module(module), func)


def _in_torchrun_worker() -> bool:
    return os.environ.get('LOCAL_RANK') is not None or bool(os.environ.get('TORCHELASTIC_RUN_ID'))


def _wants_torchrun(command: str) -> bool:
    if not ROUTES.get(command, Route(None, '')).distributed:
        return False
    if _in_torchrun_worker():
        return False  # already a torchrun worker
    return bool(os.environ.get('NPROC_PER_NODE') or os.environ.get('NNODES'))


def cli_main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help', 'help'):
        print(_usage())
        return 0
    if argv[0] in ('-V', '--version'):
        from swift.version import __version__
        print(f'swift {__version__}')
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if rest in (['--help'], ['-h']) and ROUTES.get(command, Route(None, '')).target:
            from .help_cache import print_help
            return print_help(command, lambda: _resolve(command))  # a cache hit imports none of its modules
        entry = _resolve(command)
        if _wants_torchrun(command):
            from .launch import run_torchrun
            return run_torchrun(command, rest)
        entry(rest)
        if _in_torchrun_worker():
            from swift.distributed.exit import exit_worker
            exit_worker(0)
    except SwiftError as e:
        print(f'swift {command}: error: {e}', file=sys.stderr)
        return 2 if isinstance(e, ArgumentError) else 1
    except KeyboardInterrupt:
        print(f'swift {command}: interrupted', file=sys.stderr)
        return 130
    return 0


def main():
    sys.exit(cli_main())


if __name__ == '__main__':
    main()
