"""What every swift rlhf trainer adds to its trl parent: args.json in every saved directory, so infer/export
read the training setup back, the built-in optimizers and adapter/reft saving."""
from typing import Optional

from swift.trainers.trainer import AtomicCheckpointMixin, build_builtin_optimizer, disk_full_as_swift_error
from swift.tuners.hooked import is_hooked, save_hook_tuner


class SwiftMixin(AtomicCheckpointMixin):

    def __init__(self, *args, swift_args=None, **kwargs):
        self.swift_args = swift_args
        super().__init__(*args, **kwargs)

    def _save(self, output_dir: Optional[str] = None, state_dict=None) -> None:
        output_dir = output_dir or self.args.output_dir
        with disk_full_as_swift_error(output_dir):
            model = self.accelerator.unwrap_model(self.model)
            if is_hooked(model):  # adapter / reft: only the added modules
                if self.args.should_save:
                    save_hook_tuner(model, output_dir)
                    if self.processing_class is not None:  # every checkpoint carries its tokenizer
                        self.processing_class.save_pretrained(output_dir)
            else:
                super()._save(output_dir, state_dict)
            if self.args.should_save and self.swift_args is not None:
                self.swift_args.save_args(output_dir)

    def create_optimizer(self, *args, **kwargs):
        if self.optimizer is None and build_builtin_optimizer(self) is not None:
            return self.optimizer  # GaLore, APOLLO, Adam-mini, BAdam, LoRA+ (--lorap_lr_ratio)
        return super().create_optimizer(*args, **kwargs)
