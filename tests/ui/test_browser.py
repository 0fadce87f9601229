"""`swift app` and `swift web-ui` driven in headless Chromium, as a user clicks through them. Screenshots of
every step are saved (see the `artifacts` fixture)."""
import glob
import json
import os
import time
import urllib.request

import pytest

from swift.ui.i18n import t
from ._browser import copy_to_docs, shot

pytestmark = pytest.mark.browser
LONG = 240_000  # ms: CPU training and model loading on a loaded 2-core machine


def _bot_texts(page, prefix):
    return page.locator(f'#{prefix}_chatbot [data-testid="bot"]').all_inner_texts()


def _record_bot_updates(page, prefix):
    """Collect every state of the last bot message, to see the answer arrive in pieces."""
    page.evaluate("""prefix => { window.__states = []; const box = document.querySelector('#' + prefix + '_chatbot');
      new MutationObserver(() => { const m = box.querySelectorAll('[data-testid="bot"]');
        if (m.length) window.__states.push(m[m.length - 1].innerText); })
      .observe(box, {subtree: true, childList: true, characterData: true}); }""", prefix)


def _ask(page, prefix, question):
    page.fill(f'#{prefix}_query textarea', question)
    page.keyboard.press('Enter')
    page.wait_for_function(
        """prefix => { const m = document.querySelectorAll('#' + prefix + '_chatbot [data-testid="bot"]');
          return m.length && m[m.length - 1].innerText.trim().length > 0; }""", arg=prefix, timeout=LONG)
    last, since = None, time.time()
    while time.time() - since < 3:  # the answer is done once it stops changing
        text = _bot_texts(page, prefix)[-1]
        if text != last:
            last, since = text, time.time()
        time.sleep(0.3)


def _wait_text(page, selector, text, timeout=LONG):
    """Until the element's text, or the value of a textbox in it, contains `text`."""
    page.wait_for_function("""([sel, text]) => { const e = document.querySelector(sel); if (!e) return false;
      const box = e.querySelector('textarea, input');
      return e.innerText.includes(text) || (box !== null && box.value.includes(text)); }""",
                           arg=[selector, text], timeout=timeout)


def test_app_streams_an_answer_and_clears_history(browser, page_server, artifacts):
    server = page_server('app', '--model', 'swift/tiny-qwen2', '--torch_dtype', 'float32', '--max_new_tokens', '48',
                         '--studio_title', 'Tiny chat', '--system', 'You are a helpful assistant.')
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_selector('#app_query textarea')
    assert page.title() == 'Tiny chat'
    assert page.input_value('#app_system textarea') == 'You are a helpful assistant.'
    _record_bot_updates(page, 'app')
    _ask(page, 'app', 'who are you?')
    states = [s for s in page.evaluate('window.__states') if s.strip()]
    answer = _bot_texts(page, 'app')[-1]
    assert len(set(states)) >= 3, f'the answer did not stream: {states}'
    assert answer.strip()
    copy_to_docs(shot(page, artifacts, 'app_chat'))
    _ask(page, 'app', 'and what can you do?')  # second turn: the history goes back to the model
    assert page.locator('#app_chatbot [data-testid="user"]').count() == 2
    shot(page, artifacts, 'app_chat_two_turns')
    page.click('#app_clear')
    page.wait_for_function('() => !document.querySelector("#app_chatbot [data-testid=user]")', timeout=30_000)
    assert _bot_texts(page, 'app') == []
    shot(page, artifacts, 'app_cleared')
    page.close()


def test_app_takes_an_image_upload_for_a_vl_model(browser, page_server, artifacts, tmp_path):
    from PIL import Image
    image = str(tmp_path / 'blue.png')
    Image.new('RGB', (56, 56), 'blue').save(image)
    server = page_server('app', '--model', 'swift/tiny-qwen2-vl', '--torch_dtype', 'float32', '--max_new_tokens', '8')
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_selector('#app_query textarea')
    page.set_input_files('#app_query input[type=file]', image)
    page.wait_for_selector('#app_query img', timeout=30_000)  # the upload's thumbnail in the query box
    _ask(page, 'app', 'what colour is it?')
    assert page.locator('#app_chatbot [data-testid="user"] img').count() == 1  # the image is in the history
    assert _bot_texts(page, 'app')[-1].strip()
    shot(page, artifacts, 'app_image_chat')
    page.close()


def _fill_train_form(page, max_steps: int):
    if 'self-cognition' not in page.inner_text('#train_dataset'):
        page.fill('#train_dataset input', 'swift/self-cognition#40')
        page.keyboard.press('Enter')
    page.fill('#train_max_steps input', str(max_steps))
    page.fill('#train_logging_steps input', '1')
    page.fill('#train_save_steps input', str(max_steps))
    page.fill('#train_model_name textarea', "小黄 'Xiao Huang'")
    page.fill('#train_model_author textarea', '魔搭 ModelScope')
    page.fill('#train_extra textarea', '--report_to none --torch_dtype float32 --split_dataset_ratio 0')


def _runs(cwd):
    out = []
    for path in sorted(glob.glob(os.path.join(cwd, 'output', 'web-ui', '*', 'run.json'))):
        with open(path) as f:
            out.append(json.load(f))
    return out


def _alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def test_webui_train_watch_infer_and_stop(browser, page_server, artifacts, tmp_path):
    lang = 'zh'
    server = page_server('web-ui', '--lang', lang)
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_selector('#train_start')
    assert page.get_by_role('tab', name=t('tab_train', lang)).count() == 1
    copy_to_docs(shot(page, artifacts, 'webui_train_form'))

    # invalid combination: our validation answers in the page
    _fill_train_form(page, 5)
    page.fill('#train_extra textarea', '--split_dataset_ratio 1.5')
    page.click('#train_preview')
    _wait_text(page, '#train_cmd', '--split_dataset_ratio must be in [0, 1)', 60_000)

    _fill_train_form(page, 5)
    page.click('#train_preview')
    _wait_text(page, '#train_cmd', t('valid', lang), 60_000)
    assert "swift sft --model swift/tiny-qwen2 --dataset 'swift/self-cognition#40' --max_steps 5" in \
        page.inner_text('#train_cmd')
    page.click('#train_data')
    _wait_text(page, '#train_encoded', '[dry run]', LONG)
    assert '小黄' in page.inner_text('#train_rows') or 'Xiao Huang' in page.inner_text('#train_rows')
    shot(page, artifacts, 'webui_data_preview')

    page.click('#train_start')
    _wait_text(page, '#train_status', 'running', 60_000)
    _wait_text(page, '#train_status', 'finished', LONG)
    _wait_text(page, '#train_status', '5/5')
    assert 'train_runtime' in page.input_value('#train_log textarea') or \
        'last checkpoint' in page.input_value('#train_log textarea')
    page.wait_for_selector('#train_loss canvas, #train_loss svg', timeout=30_000)
    copy_to_docs(shot(page, artifacts, 'webui_train_finished'))
    first = _runs(str(tmp_path))[0]
    assert first['status'] == 'finished' and first['returncode'] == 0
    checkpoints = glob.glob(os.path.join(first['output_dir'], 'v*', 'checkpoint-5'))
    assert len(checkpoints) == 1

    # infer tab: the new checkpoint is preselected; load it and chat
    page.get_by_role('tab', name=t('tab_infer', lang)).click()
    page.wait_for_selector('#infer_ckpt_dir input')
    page.wait_for_function('ck => document.querySelector("#infer_ckpt_dir input").value === ck',
                           arg=checkpoints[0], timeout=30_000)
    page.click('#infer_load')
    _wait_text(page, '#infer_status', t('ready', lang))
    _ask(page, 'infer', '你是谁？')
    assert _bot_texts(page, 'infer')[-1].strip()
    copy_to_docs(shot(page, artifacts, 'webui_infer_chat'))
    page.click('#infer_unload')
    _wait_text(page, '#infer_status', t('not_loaded', lang), 60_000)

    # a long second run: watch it from a fresh page (reattach), stop it, its process is gone
    page.get_by_role('tab', name=t('tab_train', lang)).click()
    _fill_train_form(page, 100_000)
    page.click('#train_start')
    _wait_text(page, '#train_status', '/100000', LONG)
    second = next(r for r in _runs(str(tmp_path)) if r['id'] != first['id'] and r['id'].endswith('-sft'))
    assert _alive(second['pid'])
    other = browser.new_page()
    other.goto(server.url)
    other.wait_for_selector('#train_runs input')
    other.wait_for_function('id => document.querySelector("#train_runs input").value === id',
                            arg=second['id'], timeout=60_000)
    _wait_text(other, '#train_status', '/100000', 60_000)
    shot(other, artifacts, 'webui_reattached')
    other.click('#train_stop')
    _wait_text(other, '#train_status', 'stopped', 60_000)
    deadline = time.time() + 30
    while _alive(second['pid']) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(second['pid']), 'Stop left the training process running'
    with urllib.request.urlopen(server.url, timeout=10) as resp:  # the web-ui itself lives on
        assert resp.status == 200
    statuses = {r['id']: r['status'] for r in _runs(str(tmp_path))}
    assert statuses[first['id']] == 'finished' and statuses[second['id']] == 'stopped'
    other.close()
    page.close()
    assert server.stop() == 0


def test_webui_export_tab_in_english(browser, page_server, artifacts):
    lang = 'en'
    server = page_server('web-ui', '--lang', lang)
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_selector('#train_start')
    for key in ('tab_train', 'tab_infer', 'tab_export'):
        assert page.get_by_role('tab', name=t(key, lang)).count() == 1
    copy_to_docs(shot(page, artifacts, 'webui_train_form_en'))
    page.get_by_role('tab', name=t('tab_export', lang)).click()
    page.fill('#export_model textarea', 'swift/tiny-qwen2')
    page.get_by_label('to_ollama').check()
    page.click('#export_preview')
    _wait_text(page, '#export_cmd', 'swift export --model swift/tiny-qwen2 --to_ollama true', 60_000)
    _wait_text(page, '#export_cmd', t('valid', lang))
    page.click('#export_start')
    _wait_text(page, '#export_status', 'finished', LONG)
    assert 'Modelfile' in page.input_value('#export_log textarea')
    copy_to_docs(shot(page, artifacts, 'webui_export'))
    page.close()
