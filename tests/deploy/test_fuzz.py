"""Issue 11 item 12 (`make test-extra`): schemathesis from the server's real /openapi.json finds no 5xx, and a
load of 300 chats at concurrency 32 has no errors and no memory growth between two rounds."""
import asyncio

import pytest

from .deploy_helpers import API_KEY

AUTH = {'Authorization': f'Bearer {API_KEY}'}


@pytest.mark.fuzz
def test_schemathesis_finds_no_server_error(server):
    schemathesis = pytest.importorskip('schemathesis')
    from hypothesis import HealthCheck, Phase, given, settings
    schema = schemathesis.openapi.from_url(server.base + '/openapi.json', headers=AUTH, timeout=30)
    failures, calls = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=120, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            nonlocal calls
            calls += 1
            response = case.call(base_url=server.base, headers=AUTH, timeout=120)
            if response.status_code >= 500:
                failures.append((operation.label, case.body, response.status_code, response.text[:300]))

        check()
    print(f'schemathesis: {calls} generated requests')
    assert calls >= 200, calls
    assert not failures, failures[:5]


def _rss_mb(pid: int) -> float:
    with open(f'/proc/{pid}/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmRSS:')) / 1024


async def _round(base: str, total: int, concurrency: int):
    import openai
    client = openai.AsyncOpenAI(base_url=base + '/v1', api_key=API_KEY, max_retries=0, timeout=300)
    gate, errors = asyncio.Semaphore(concurrency), []

    async def one(i):
        async with gate:
            try:
                r = await client.chat.completions.create(model='tiny', max_tokens=4, temperature=0,
                                                         messages=[{'role': 'user', 'content': f'count {i}'}])
                assert r.choices[0].finish_reason in ('stop', 'length')
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                errors.append(repr(e)[:200])
    await asyncio.gather(*(one(i) for i in range(total)))
    await client.close()
    return errors


@pytest.mark.fuzz
def test_load_has_no_errors_and_no_memory_growth(server):
    pid = server.proc.pid
    assert not asyncio.run(_round(server.base, 300, 32))  # warm-up round: caches and allocator settle
    before = _rss_mb(pid)
    errors = asyncio.run(_round(server.base, 300, 32))
    after = _rss_mb(pid)
    print(f'load: 300 requests at concurrency 32, RSS {before:.0f} -> {after:.0f} MB')
    assert not errors, errors[:5]
    assert after - before < 50, (before, after)
