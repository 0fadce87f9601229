"""`swift infer` with a vision model: --val_dataset rows with images, and interactive <image> tags with paths."""
import json

from PIL import Image

from swift.pipelines.infer import infer_main


def _images(tmp_path):
    paths = {}
    for colour in ('red', 'blue'):
        paths[colour] = str(tmp_path / f'{colour}.png')
        Image.new('RGB', (40, 30), colour).save(paths[colour])
    return paths


def test_val_dataset_with_images(tmp_path):
    from swift.infer import InferRequest, PtEngine, RequestConfig
    paths = _images(tmp_path)
    rows = [{'messages': [{'role': 'user', 'content': '<image>What colour?'},
                          {'role': 'assistant', 'content': colour}], 'images': [path]}
            for colour, path in paths.items()]
    rows.append({'messages': [{'role': 'user', 'content': 'No picture.'}, {'role': 'assistant', 'content': 'ok'}]})
    data = tmp_path / 'vqa.jsonl'
    data.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    out = tmp_path / 'result.jsonl'
    infer_main(['--model', 'swift/tiny-llava', '--val_dataset', str(data), '--max_new_tokens', '6',
                '--temperature', '0', '--max_batch_size', '3', '--result_path', str(out)])
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r['labels'] for r in results] == ['red', 'blue', 'ok']
    assert results[0]['images'] == [paths['red']] and 'images' not in results[2] or not results[2].get('images')
    engine = PtEngine('swift/tiny-llava')
    alone = engine.infer([InferRequest([{'role': 'user', 'content': '<image>What colour?'}], images=[paths['red']])],
                         RequestConfig(max_tokens=6, temperature=0))[0]
    assert results[0]['response'] == alone.choices[0].message.content
    assert results[0]['response'] != results[1]['response']


def test_interactive_asks_for_each_image_path(tmp_path):
    import io

    from swift.infer import PtEngine
    from swift.pipelines.infer import SwiftInfer
    paths = _images(tmp_path)
    stdin = (f'<image>What colour?\n{paths["red"]}\nAnd now?\n<image><image>Compare\n{paths["red"]}\n'
             f'{paths["blue"]}\n<image>Broken\n/no/such/file.png\nclear\nexit\n')
    stdout = io.StringIO()
    infer = SwiftInfer(['--model', 'swift/tiny-llava', '--max_new_tokens', '4', '--temperature', '0'])
    infer.infer_cli(PtEngine('swift/tiny-llava'), stdin=io.StringIO(stdin), stdout=stdout)
    out = stdout.getvalue()
    assert 'write <image>' in out
    assert out.count('Input an image path <<< ') == 4
    errors = [line for line in out.splitlines() if '[ERROR]' in line]
    assert len(errors) == 1 and '/no/such/file.png' in errors[0]


def test_result_rows_with_decoded_images_are_json():
    from swift.infer import InferRequest
    from swift.infer.protocol import (ChatCompletionResponse, ChatCompletionResponseChoice, ChatMessage,
                                      UsageInfo)
    from swift.pipelines.infer import _result_row
    image = Image.new('RGB', (4, 4), 'red')
    row = {'messages': [{'role': 'user', 'content': '<image>?'}], 'images': [image, 'a.png']}
    response = ChatCompletionResponse('m', [ChatCompletionResponseChoice(0, ChatMessage('assistant', 'red'), 'stop')],
                                      UsageInfo())
    out = json.loads(json.dumps(_result_row(row, InferRequest(row['messages']), None, response)))
    assert out['images'][0].startswith('data:image/png;base64,') and out['images'][1] == 'a.png'
