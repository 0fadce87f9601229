"""ms-swift 3.x names a plugin file may import that this toolkit does not implement, and the one-line error the
plugin loader gives for them (instead of exporting dicts nothing would read)."""
import re
import traceback
from typing import Optional

# module -> {ms-swift name: what to use here instead ('' when nothing)}
UNSUPPORTED = {
    'swift.plugin': {
        'multi_turns': 'GRPO multi-turn rollouts are not implemented',
        'MultiTurnScheduler': 'GRPO multi-turn rollouts are not implemented',
        'envs': 'GRPO environments are not implemented',
        'Env': 'GRPO environments are not implemented',
        'rm_plugins': 'reward-model plugins are not implemented; --reward_model scores with the model itself',
        'context_managers': 'rollout context managers are not implemented',
        'ContextManager': 'rollout context managers are not implemented',
        'agent_templates': 'agent templates are tools prompts here: swift.template.register_tools_prompt and '
                           '--tools_prompt',
        'InferStats': 'swift infer logs its own throughput',
    },
    'swift.tuners': {
        name: "ms-swift's own tuner configs are not implemented; use a peft config (LoraConfig, ...) with "
              'Swift.prepare_model, or --train_type adapter/llamapro/reft/longlora'
        for name in ('SwiftModel', 'SwiftConfig', 'SwiftOutput', 'AdapterConfig', 'LoRAConfig', 'LongLoRAConfig',
                     'LLaMAProConfig', 'NEFTuneConfig', 'PromptConfig', 'SideConfig', 'ResTuningConfig',
                     'SCETuningConfig', 'ReftConfig', 'PartConfig', 'Part')
    },
}
AVAILABLE = {
    'swift.plugin': 'extra_tuners, Tuner, PeftTuner, optimizers_map, loss_mapping, get_loss_func, metric_mapping, '
                    'get_metric, Metric, MeanMetric, compute_acc, compute_rouge_bleu, extra_callbacks, '
                    'loss_scale_map, orms, ORM, prms, PRM',
    'swift.tuners': 'Swift, LoraConfig and the other peft configs, PeftModel, get_peft_model',
}
_MISSING = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'|module '([\w.]+)' has no attribute '(\w+)'")


def _missing_name(error: BaseException):
    """(module, name) of a failed `from module import name` / `module.name`, or None."""
    if not isinstance(error, (ImportError, AttributeError)):
        return None
    m = _MISSING.search(str(error))
    if m is None:
        return None
    return (m.group(2), m.group(1)) if m.group(1) else (m.group(3), m.group(4))


def plugin_line(error: BaseException, path: str) -> Optional[int]:
    """The line of `path` the error was raised from (its innermost frame there)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
    return frames[-1].lineno if frames else None


def unsupported_message(error: BaseException) -> Optional[str]:
    """The one-line explanation when `error` is the import of an ms-swift name we do not implement."""
    found = _missing_name(error)
    if found is None or found[1] not in UNSUPPORTED.get(found[0], {}):
        return None
    module, name = found
    return (f'`{name}` (from {module}) is an ms-swift feature not available here ({UNSUPPORTED[module][name]}); '
            f'the ms-swift names {module} provides: {AVAILABLE[module]}.')
