"""`python -m swift.distributed.torchrun ...`: torchrun itself (torch.distributed.run), except that a failed worker
ends in one line naming its rank and exit code instead of torchrun's ChildFailedError traceback (the worker has
already printed its own error)."""
import signal
import sys


def main(argv=None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run
    try:
        run(parse_args(argv))
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        code = failure.exitcode
        reason = f'signal {signal.Signals(-code).name}' if code < 0 else f'exit code {code}'
        print(f'[swift] worker rank {rank} failed ({reason}); its error is above. The other workers were stopped.',
              file=sys.stderr, flush=True)
        return 128 - code if code < 0 else (code or 1)
    except SignalException as e:  # the launcher was told to stop: torchrun has already stopped the workers
        return 128 + int(e.sigval)
    return 0


if __name__ == '__main__':
    sys.exit(main())
