"""The vllm/lmdeploy engines get the template the arguments build (regression: they built their own, dropping
--tools_prompt, --truncation_strategy, --template_backend and --loss_scale). The GPU libraries are not installed
on CPU, so their import returns a recording stand-in for the engine object only."""
from types import SimpleNamespace

import pytest

import swift.infer.lmdeploy as lmdeploy_module
import swift.infer.vllm as vllm_module
from swift.arguments import InferArguments, parse_args
from swift.pipelines.base import build_template, load_model_tokenizer
from swift.pipelines.infer import build_engine

FLAGS = ['--model', 'swift/tiny-qwen2', '--tools_prompt', 'react_zh', '--truncation_strategy', 'left',
         '--max_length', '64', '--system', 'Be brief.']


@pytest.fixture
def fake_gpu_libraries(monkeypatch):
    vllm = SimpleNamespace(AsyncEngineArgs=lambda **kw: kw, AsyncLLMEngine=SimpleNamespace(from_engine_args=dict))
    monkeypatch.setattr(vllm_module, '_import_vllm', lambda: vllm)
    backend = SimpleNamespace(max_batch_size=8)
    lmdeploy = SimpleNamespace(TurbomindEngineConfig=dict, PytorchEngineConfig=dict, VisionConfig=dict,
                               pipeline=lambda *a, **kw: SimpleNamespace(backend_config=backend))
    monkeypatch.setattr(lmdeploy_module, '_import_lmdeploy', lambda: lmdeploy)


@pytest.mark.parametrize('backend', ['vllm', 'lmdeploy'])
def test_gpu_engine_encodes_like_the_pt_template(fake_gpu_libraries, backend):
    args = parse_args(InferArguments, FLAGS + ['--infer_backend', backend])
    args.validate()
    args.resolve()
    engine = build_engine(args)
    template = engine.template
    assert (template.tools_prompt, template.truncation_strategy, template.max_length) == ('react_zh', 'left', 64)
    reference_args = parse_args(InferArguments, FLAGS)
    reference_args.validate()
    reference_args.resolve()
    reference = build_template(reference_args, load_model_tokenizer(reference_args, load_model=False)[1], 'infer')
    tools = [{'type': 'function', 'function': {'name': 'get_weather', 'parameters': {'type': 'object'}}}]
    row = {'messages': [{'role': 'user', 'content': 'weather in Paris ' * 20}], 'tools': tools}
    assert template.encode(row, mode='infer')['input_ids'] == reference.encode(row, mode='infer')['input_ids']
