"""`swift app`: arguments -> engine (pt in-process, or a client of --base_url) -> the Gradio chat page."""
from typing import Sequence, Union

from swift.arguments.app_args import AppArguments
from swift.utils import ArgumentError, get_logger
from .base import to_args

logger = get_logger()


def connect(args: AppArguments):
    """An InferClient of --base_url and the model name to request; one line when the server cannot be used."""
    from swift.infer import InferClient
    client = InferClient(base_url=args.base_url.rstrip('/'), api_key=args.api_key or 'EMPTY', timeout=30)
    try:
        models = client.models
    except Exception as e:  # noqa: BLE001 - connection refused, DNS, HTTP 401/404, not JSON: all one message
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        client.close()
        raise ArgumentError(f'--base_url {args.base_url}: no OpenAI-compatible server answers GET /models there '
                            f'({reason}); start one (e.g. `swift deploy --model ...`) or fix the URL.') from None
    name = args.served_model_name or models[0]
    if name not in models:
        client.close()
        raise ArgumentError(f'--served_model_name {name}: {args.base_url} serves {", ".join(models)}.')
    return client, name


def check_multimodal(args: AppArguments) -> None:
    from swift.model import get_model_info_meta
    _, meta = get_model_info_meta(args.model, model_type=args.model_type, use_hf=args.use_hf,
                                  hub_token=args.hub_token)
    if not meta.is_multimodal:
        raise ArgumentError(f'--is_multimodal true: {args.model} ({meta.model_type}) is a text-only model; drop the '
                            'flag, or load a vision-language model (e.g. swift/tiny-qwen2-vl, qwen2_vl, llava1_5_hf).')


def app_main(args: Union[None, AppArguments, Sequence[str]] = None) -> None:
    args = to_args(AppArguments, args, 'swift app')
    from swift.infer import AdapterRequest
    from swift.ui.app import build_app, check_port, launch, takes_images
    from .infer import build_engine, request_config_from_args
    check_port(args.server_name, args.server_port)  # before minutes of weight loading
    if args.is_multimodal and not args.base_url:
        check_multimodal(args)
    if args.base_url:
        engine, name = connect(args)
        adapter_request = AdapterRequest(name, '') if name != engine.model_name else None
    else:
        engine, name, adapter_request = build_engine(args), args.served_model_name, None
    try:
        images = takes_images(engine) if args.is_multimodal is None else args.is_multimodal
        demo = build_app(engine, request_config_from_args(args), args.title(name), args.lang, args.system, name,
                         adapter_request=adapter_request, images=images)
        logger.info(f'swift app: chatting with {name}' + (f' at {args.base_url}' if args.base_url else ''))
        launch(demo, args.server_name, args.server_port, args.share)
    finally:
        engine.close()
