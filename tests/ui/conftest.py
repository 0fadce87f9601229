"""Browser-test fixtures: Debian's chromium driven by playwright (its own browser download cannot work offline),
and `swift app` / `swift web-ui` subprocesses on 127.0.0.1."""
import os

import pytest

from ._browser import PageServer

CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


@pytest.fixture(scope='session')
def browser(tmp_path_factory):
    if not os.path.isfile(CHROMIUM):
        pytest.fail(f'{CHROMIUM} not found: `make browser-deps` installs Debian\'s chromium (apt).')
    from playwright.sync_api import sync_playwright
    profile = tmp_path_factory.mktemp('chromium-profile')  # an empty --user-data-dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                       args=CHROMIUM_ARGS, viewport={'width': 1400, 'height': 1000})
        yield context
        context.close()


@pytest.fixture(scope='session')
def artifacts(tmp_path_factory):
    """Screenshots go here: $SWIFT_UI_ARTIFACTS when set (CI keeps them), else a pytest tmp dir."""
    folder = os.environ.get('SWIFT_UI_ARTIFACTS') or str(tmp_path_factory.mktemp('screenshots'))
    os.makedirs(folder, exist_ok=True)
    print(f'\nbrowser-test screenshots: {folder}')
    return folder


@pytest.fixture
def page_server(tmp_path):
    servers = []

    def start(command: str, *argv: str) -> PageServer:
        servers.append(PageServer(command, argv, str(tmp_path)))
        return servers[-1].wait_ready()

    yield start
    for server in servers:
        server.stop()
