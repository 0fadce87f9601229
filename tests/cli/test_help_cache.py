"""`swift <command> --help` is served from a cache keyed by the package, without importing the heavy libraries,
and is exactly the help of the parser the command runs."""
import subprocess
import sys

import pytest

from swift.arguments import SftArguments, build_parser
from swift.cli import help_cache

SWIFT = [sys.executable, '-m', 'swift.cli.main']
NO_HEAVY_IMPORTS = ('import sys; from swift.cli.main import cli_main; cli_main(["{cmd}", "--help"]); '
                    'assert not {{"torch", "transformers"}} & set(sys.modules), "heavy import"')


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('SWIFT_CACHE', str(tmp_path))
    monkeypatch.setenv('COLUMNS', '100')
    return tmp_path


def _help(*argv, env=None):
    return subprocess.run(SWIFT + list(argv), capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.parametrize('command', ['sft', 'deploy'])
def test_cached_help_is_the_parser_help_and_imports_nothing_heavy(cache, command):
    first = _help(command, '--help')
    assert first.returncode == 0 and '--model' in first.stdout
    assert list((cache / 'help').iterdir())  # written on the first call
    second = _help(command, '--help')
    assert second.returncode == 0 and second.stdout == first.stdout
    hit = subprocess.run([sys.executable, '-c', NO_HEAVY_IMPORTS.format(cmd=command)], capture_output=True,
                         text=True, timeout=120)
    assert hit.returncode == 0, hit.stderr[-2000:]


def test_sft_help_equals_a_fresh_parser(cache, capsys):
    from swift.cli.main import cli_main
    assert cli_main(['sft', '--help']) == 0
    cached = capsys.readouterr().out
    assert cached == build_parser(SftArguments, prog='swift sft').format_help()


def test_a_changed_package_is_a_miss(cache, monkeypatch):
    before = help_cache.help_key('sft')
    monkeypatch.setattr(help_cache, '_LIBRARIES', help_cache._LIBRARIES + ('torch',))
    assert help_cache.help_key('sft') != before
