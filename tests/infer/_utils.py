"""Helpers shared by the inference tests."""
PROMPTS = ['hi', 'What is 2+2?', 'Tell me a story about cats and dogs.', '你好，世界']


def requests(prompts=PROMPTS):
    from swift.infer import InferRequest
    return [InferRequest([{'role': 'user', 'content': p}]) for p in prompts]
