"""PluginRegistry: the strict Registry, with ms-swift's dict-style `orms['name'] = MyReward` registration."""
from typing import TypeVar

from swift.utils import ArgumentError, Registry, did_you_mean

T = TypeVar('T')


class PluginRegistry(Registry[T]):
    """`flag` names the command-line argument that selects entries, so unknown names fail as argument errors
    listing the known names."""

    def __init__(self, kind: str, flag: str):
        super().__init__(kind)
        self.flag = flag

    def __setitem__(self, name: str, value: T) -> None:
        self.register(name, value)

    def get(self, name: str) -> T:
        if name not in self:
            raise ArgumentError(f'--{self.flag} {name}: unknown {self.kind}.{did_you_mean(name, self.keys())} '
                                f'Known: {", ".join(sorted(self.keys())) or "none"} (register your own with '
                                '--external_plugins).')
        return super().get(name)
