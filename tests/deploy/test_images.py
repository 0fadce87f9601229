"""`swift deploy` of a vision-language model answers the official openai client with image content parts (data
URLs, local paths, file:// URLs); bad images are one-line 4xx answers."""
import base64
import io

import openai
import pytest
from PIL import Image

from .deploy_helpers import API_KEY, DeployProcess, http

MAX_BYTES = 200_000


def _png(colour, size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new('RGB', size, colour).save(buf, format='PNG')
    return buf.getvalue()


def _data_url(data: bytes) -> str:
    return 'data:image/png;base64,' + base64.b64encode(data).decode()


@pytest.fixture(scope='module')
def vl_server(tmp_path_factory):
    root = tmp_path_factory.mktemp('deploy_vl')
    proc = DeployProcess(['--model', 'swift/tiny-llava', '--api_key', API_KEY, '--served_model_name', 'tiny-vl',
                          '--max_batch_size', '4', '--max_request_bytes', str(MAX_BYTES)], str(root / 'server.log'))
    try:
        proc.wait_ready(timeout=240)  # the vision model loads more modules than the text one
        yield proc, root
    finally:
        code = proc.stop()
    assert code == 0, proc.output()[-3000:]


def _ask(client, url, text='What colour is it?', **kw):
    content = [{'type': 'image_url', 'image_url': {'url': url}}, {'type': 'text', 'text': text}]
    return client.chat.completions.create(model='tiny-vl', messages=[{'role': 'user', 'content': content}],
                                          max_tokens=8, temperature=0, **kw)


def test_data_url_local_path_and_file_url_agree(vl_server):
    server, root = vl_server
    client = openai.OpenAI(base_url=server.base + '/v1', api_key=API_KEY, max_retries=0, timeout=60)
    red = root / 'red.png'
    red.write_bytes(_png('red'))
    by_data = _ask(client, _data_url(_png('red')))
    assert by_data.choices[0].message.content and by_data.usage.prompt_tokens > 16  # 16 image tokens
    assert _ask(client, str(red)).choices[0].message.content == by_data.choices[0].message.content
    assert _ask(client, f'file://{red}').choices[0].message.content == by_data.choices[0].message.content
    blue = _ask(client, _data_url(_png('blue')))
    assert blue.choices[0].message.content != by_data.choices[0].message.content
    streamed = _ask(client, str(red), stream=True)
    assert ''.join(c.choices[0].delta.content or '' for c in streamed if c.choices) == \
        by_data.choices[0].message.content
    text_only = client.chat.completions.create(model='tiny-vl', messages=[{'role': 'user', 'content': 'hi'}],
                                               max_tokens=4, temperature=0)
    assert text_only.usage.prompt_tokens < by_data.usage.prompt_tokens


def _post(server, content):
    body = {'model': 'tiny-vl', 'max_tokens': 4, 'messages': [{'role': 'user', 'content': content}]}
    return http('POST', server.base + '/v1/chat/completions', body)


@pytest.mark.parametrize('url,status,needle', [
    ('https://example.com/cat.png', 400, 'remote URLs are not fetched'),
    ('data:image/png;base64,' + base64.b64encode(b'not an image').decode(), 400, 'cannot be decoded'),
    ('/no/such/file.png', 400, 'no such file'),
])
def test_bad_images_are_one_line_400s(vl_server, url, status, needle):
    server, _ = vl_server
    code, body = _post(server, [{'type': 'image_url', 'image_url': {'url': url}}, {'type': 'text', 'text': 'hi'}])
    assert code == status and needle in body['error']['message'] and '\n' not in body['error']['message']
    assert body['error']['param'] == 'messages.0.content.0'


def _png_header_only(width, height) -> bytes:
    """A PNG whose header claims width x height pixels (a decompression bomb's shape, without the data)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'')) + chunk(b'IEND', b'')


def test_other_part_types_and_oversized_files(vl_server):
    server, root = vl_server
    code, body = _post(server, [{'type': 'input_audio', 'input_audio': {'data': ''}}])
    assert code == 400 and 'unsupported content part' in body['error']['message']
    big = root / 'big.bmp'
    Image.new('RGB', (300, 300), 'green').save(big)  # ~270 kB > --max_request_bytes
    code, body = _post(server, [{'type': 'image', 'image': str(big)}, {'type': 'text', 'text': 'hi'}])
    assert code == 413 and '--max_request_bytes' in body['error']['message']
    bomb = _data_url(_png_header_only(20000, 20000))
    code, body = _post(server, [{'type': 'image_url', 'image_url': {'url': bomb}}, {'type': 'text', 'text': 'hi'}])
    assert code == 400 and 'more than 89478485 pixels' in body['error']['message']
    bomb = _data_url(_png_header_only(10000, 9000))  # between PIL's warning and error thresholds
    code, body = _post(server, [{'type': 'image', 'image': bomb}, {'type': 'text', 'text': 'hi'}])
    assert code == 400 and 'more than 89478485 pixels' in body['error']['message']
    code, body = _post(server, '<image><image>two tags, no images')
    assert code == 400 and 'images' in body['error']['message']


def test_ms_swift_image_part_and_top_level_images(vl_server):
    server, root = vl_server
    url = _data_url(_png('red'))
    code, by_part = _post(server, [{'type': 'image', 'image': url}, {'type': 'text', 'text': 'What colour is it?'}])
    assert code == 200
    body = {'model': 'tiny-vl', 'max_tokens': 4, 'images': [url],
            'messages': [{'role': 'user', 'content': '<image>What colour is it?'}]}
    code, by_field = http('POST', server.base + '/v1/chat/completions', body)
    assert code == 200 and by_field['choices'][0]['message'] == by_part['choices'][0]['message']


def test_infer_client_sends_images_as_content_parts(vl_server):
    """InferClient (used by eval, the app and sampling against a server) turns tags + images into data URLs."""
    from swift.infer import InferClient, InferRequest, RequestConfig
    server, root = vl_server
    path = root / 'red_client.png'
    path.write_bytes(_png('red'))
    client = InferClient(base_url=server.base + '/v1', api_key=API_KEY)
    config = RequestConfig(max_tokens=8, temperature=0)
    try:
        tagged = client.infer([InferRequest([{'role': 'user', 'content': '<image>What colour is it?'}],
                                            images=[str(path)])], config)[0]
        untagged = client.infer([InferRequest([{'role': 'user', 'content': 'What colour is it?'}],
                                              images=[Image.open(path)])], config)[0]
    finally:
        client.close()
    direct = _ask(openai.OpenAI(base_url=server.base + '/v1', api_key=API_KEY), str(path))
    assert tagged.choices[0].message.content == untagged.choices[0].message.content == \
        direct.choices[0].message.content
