from .base_args import BaseArguments, read_args_json
from .parser import build_parser, parse_args
from .train_args import PtArguments, SftArguments, TrainArguments
from .tuner_args import TunerArguments
