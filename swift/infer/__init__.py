"""Inference engines (pt, vllm, lmdeploy, HTTP client) behind one interface; see docs/inference.md."""
from .engine import InferEngine
from .protocol import (AdapterRequest, ChatCompletionMessageToolCall, ChatCompletionRequest, ChatCompletionResponse,
                       ChatCompletionResponseChoice, ChatCompletionResponseStreamChoice, ChatCompletionStreamResponse,
                       ChatMessage, CompletionRequest, CompletionResponse, CompletionStreamResponse, DeltaMessage,
                       Function, InferRequest, RequestConfig, UsageInfo)


def __getattr__(name):
    # Engines import torch/transformers (and vllm/lmdeploy/openai only when chosen): load them on first use.
    lazy = {'PtEngine': '.pt', 'VllmEngine': '.vllm', 'LmdeployEngine': '.lmdeploy', 'InferClient': '.client'}
    if name in lazy:
        import importlib
        return getattr(importlib.import_module(lazy[name], __name__), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'InferEngine', 'AdapterRequest', 'ChatCompletionMessageToolCall', 'ChatCompletionRequest', 'ChatCompletionResponse',
    'ChatCompletionResponseChoice', 'ChatCompletionResponseStreamChoice', 'ChatCompletionStreamResponse', 'ChatMessage',
    'CompletionRequest', 'CompletionResponse', 'CompletionStreamResponse', 'DeltaMessage', 'Function', 'InferRequest',
    'RequestConfig', 'UsageInfo', 'PtEngine', 'VllmEngine', 'LmdeployEngine', 'InferClient'
]
