"""What every swift rlhf trainer adds to its trl parent: args.json in every saved directory, so infer/export
read the training setup back."""
from typing import Optional

from swift.trainers.trainer import disk_full_as_swift_error


class SwiftMixin:

    def __init__(self, *args, swift_args=None, **kwargs):
        self.swift_args = swift_args
        super().__init__(*args, **kwargs)

    def _save(self, output_dir: Optional[str] = None, state_dict=None) -> None:
        output_dir = output_dir or self.args.output_dir
        with disk_full_as_swift_error(output_dir):
            super()._save(output_dir, state_dict)
            if self.args.should_save and self.swift_args is not None:
                self.swift_args.save_args(output_dir)
