"""DeployArguments: 002's defaults, validation, and the served model name."""
import pytest

from swift.arguments import parse_args
from swift.arguments.deploy_args import DeployArguments
from swift.utils import ArgumentError


def test_defaults_follow_002():
    args = parse_args(DeployArguments, ['--model', 'swift/tiny-qwen2'])
    assert (args.host, args.port, args.api_key, args.owned_by) == ('0.0.0.0', 8000, None, 'swift')
    assert (args.verbose, args.log_interval, args.max_logprobs, args.infer_backend) == (True, 20, 20, 'pt')
    args.validate()
    args.resolve()
    assert args.served_model_name == 'tiny-qwen2'


@pytest.mark.parametrize('argv', [['--port', '0'], ['--port', '70000'], ['--max_logprobs', '-1'],
                                  ['--log_interval', '0'], ['--max_batch_size', '0']])
def test_invalid_values(argv):
    args = parse_args(DeployArguments, ['--model', 'swift/tiny-qwen2', *argv])
    with pytest.raises(ArgumentError):
        args.validate()
