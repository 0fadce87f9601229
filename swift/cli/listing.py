"""`swift list models|templates|datasets|plugins [--custom_register_path f.py] [--external_plugins f.py]`:
what the registries hold."""
import argparse
from typing import List

from swift.utils import ArgumentError


def list_main(argv: List[str]):
    parser = argparse.ArgumentParser(prog='swift list', allow_abbrev=False)
    parser.add_argument('what', choices=['models', 'templates', 'datasets', 'plugins'])
    parser.add_argument('--custom_register_path', nargs='*', default=[])
    parser.add_argument('--external_plugins', nargs='*', default=[])
    ns, unknown = parser.parse_known_args(argv)
    if unknown:
        raise ArgumentError(f'unknown arguments: {" ".join(unknown)}')
    import swift.dataset  # noqa: F401  the registries user files extend, and built-in plugins
    import swift.model  # noqa: F401
    import swift.template  # noqa: F401
    import swift.trainers  # noqa: F401
    import swift.tuners  # noqa: F401
    from swift.plugin.loader import import_plugin_files
    import_plugin_files(ns.custom_register_path, 'custom_register_path')
    import_plugin_files(ns.external_plugins, 'external_plugins')
    if ns.what == 'models':
        from swift.model import MODEL_MAPPING
        for name, meta in sorted(MODEL_MAPPING.items()):
            ids = [m.ms_model_id or m.hf_model_id or m.model_path for g in meta.model_groups for m in g.models]
            print(f'{name:<24} template={meta.template:<16} {", ".join(i for i in ids[:3] if i)}')
    elif ns.what == 'templates':
        from swift.template import TEMPLATE_MAPPING
        for name in sorted(TEMPLATE_MAPPING.keys()):
            print(name)
    elif ns.what == 'plugins':
        from swift.plugin import PLUGIN_REGISTRIES
        for kind, registry in PLUGIN_REGISTRIES.items():
            print(f'{kind:<15} {", ".join(sorted(registry.keys())) or "-"}')
        from swift.plugin.callback import extra_callback_names
        print(f'{"extra_callbacks":<15} {", ".join(extra_callback_names()) or "-"}')
    else:
        from swift.dataset import DATASET_MAPPING
        for name in sorted(DATASET_MAPPING.keys()):
            print(name)
