"""`swift deploy`: build the engine as `swift infer` does and serve it with uvicorn until SIGINT/SIGTERM."""
import signal
from typing import Sequence, Union

from swift.arguments.deploy_args import DeployArguments
from swift.utils import get_logger
from .base import to_args

logger = get_logger()


def _uvicorn_server(app, args: DeployArguments):
    import uvicorn

    class Server(uvicorn.Server):

        def handle_exit(self, sig, frame):
            if not self.should_exit:
                logger.info(f'{signal.Signals(sig).name} received: finishing open requests, then exiting.')
            super().handle_exit(sig, frame)
            # The graceful shutdown is the whole answer to the signal: exit 0 instead of re-raising it.
            self._captured_signals.clear()

    config = uvicorn.Config(app, host=args.host, port=args.port, log_level='info' if args.verbose else 'warning',
                            timeout_graceful_shutdown=10)
    return Server(config)


def _url(args: DeployArguments) -> str:
    host = '127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host
    return f'http://{host}:{args.port}/v1'


def deploy_main(args: Union[None, DeployArguments, Sequence[str]] = None) -> None:
    args = to_args(DeployArguments, args, 'swift deploy')
    from swift.infer.server import build_app
    from .infer import build_engine
    engine = build_engine(args)
    app = build_app(engine, args)
    server = _uvicorn_server(app, args)
    names = [args.served_model_name] + [n for n in app.state.server.adapters]
    logger.info(f'Serving {", ".join(names)} at {_url(args)} (OpenAI-compatible; GET /v1/models lists them)')
    print(f'swift deploy: serving {args.served_model_name} at {_url(args)}', flush=True)
    try:
        server.run()
    finally:
        engine.close()
    logger.info('swift deploy stopped.')
