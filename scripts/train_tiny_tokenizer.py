"""Train the byte-level BPE tokenizer shipped with the tiny offline models (swift/tiny-qwen2, swift/tiny-llama).

Offline and deterministic: the corpus is built from the bilingual text below plus
`swift/dataset/data/self_cognition.jsonl` (when present, with its {{NAME}}/{{AUTHOR}} placeholders filled in).
Usage: python scripts/train_tiny_tokenizer.py [--out swift/model/tiny_assets/tokenizer.json]
"""
import argparse
import itertools
import json
import os

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SELF_COGNITION = os.path.join(ROOT, 'swift', 'dataset', 'data', 'self_cognition.jsonl')
DEFAULT_OUT = os.path.join(ROOT, 'swift', 'model', 'tiny_assets', 'tokenizer.json')
VOCAB_SIZE = 4000
SPLIT_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
                 r"""\s*[\r\n]+|\s+(?!\S)|\s+""")
# Qwen2 set first, then the Llama-3 set: all special, all single ids in both families.
SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|begin_of_text|>', '<|end_of_text|>',
                  '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>']
NAMES = [('小黄', 'Xiao Huang'), ('小明', 'Xiao Ming'), ('小助手', 'Little Helper'), ('通义千问', 'Qwen'),
         ('羊驼', 'Llama'), ('小蓝', 'Xiao Lan')]
AUTHORS = [('魔搭', 'ModelScope'), ('阿里云', 'Alibaba Cloud'), ('开源社区', 'the open-source community'),
           ('斯威夫特团队', 'the Swift team'), ('元', 'Meta')]

EN_SENTENCES = """\
Who are you?
What is your name?
Who created you?
Who developed you?
Are you ChatGPT?
Are you a human?
Can you introduce yourself?
Hello! How can I help you today?
I am an AI assistant. I can answer questions, write text and help with code.
The quick brown fox jumps over the lazy dog.
Please write a short poem about the sea.
Translate the following sentence into Chinese.
Summarize the article in three sentences.
What is the capital of France? The capital of France is Paris.
How many days are there in a leap year? There are 366 days.
Explain the difference between a list and a tuple in Python.
The weather is sunny today, with a high of 25 degrees.
Machine learning is a field of artificial intelligence.
A language model predicts the next token given the previous tokens.
Fine-tuning adapts a pretrained model to a new task with less data.
LoRA adds small low-rank matrices to the attention layers.
The training loss decreased from 2.31 to 0.45 after 100 steps.
Thank you very much! You are welcome.
Sorry, I do not know the answer to that question.
Let me think step by step.
First, add the two numbers. Then, divide the result by three.
The answer is 42.
Calculate 12 + 7 * 3 = 33.
What is 15% of 200? It is 30.
I like reading books, playing football and listening to music.
She went to the market to buy apples, bananas and oranges.
Please keep your answer short and clear.
The meeting starts at 9:30 AM on Monday, March 3rd, 2025.
Call me at +1 (555) 010-2030 or send an email to help@example.com.
Visit https://www.modelscope.cn/models for more models.
Open the file, read each line, and print the result.
Error: file not found. Please check the path and try again.
Write a function that returns the sum of a list.
The user asked a question, and the assistant answered it.
You are a helpful assistant.
Good morning, everyone. Good night, see you tomorrow.
It was the best of times, it was the worst of times.
Water boils at 100 degrees Celsius at sea level.
The Earth orbits the Sun once every 365.25 days.
Neural networks are made of layers of weights and activations.
"""

ZH_SENTENCES = """\
你是谁？
你叫什么名字？
你是由谁开发的？
你是谁训练的？
请介绍一下你自己。
你是人类吗？
你好！有什么可以帮你的吗？
我是一个人工智能助手，可以回答问题、写作和编程。
今天天气很好，阳光明媚。
请写一首关于大海的短诗。
把下面这句话翻译成英文。
用三句话总结这篇文章。
中国的首都是北京。
一年有十二个月，一周有七天。
机器学习是人工智能的一个分支。
语言模型根据前面的词预测下一个词。
微调可以让预训练模型适应新的任务。
训练损失在一百步之后从二点三降到了零点四五。
非常感谢！不客气。
抱歉，我不知道这个问题的答案。
让我们一步一步地思考。
首先把两个数相加，然后除以三。
答案是四十二。
我喜欢读书、踢足球和听音乐。
她去市场买了苹果、香蕉和橙子。
请简短清楚地回答。
会议在星期一上午九点半开始。
请检查文件路径后再试一次。
写一个函数，返回列表中所有数字的和。
你是一个乐于助人的助手。
早上好，大家好。晚安，明天见。
水在海平面的沸点是一百摄氏度。
地球每年绕太阳转一圈。
神经网络由多层权重和激活函数组成。
我们在魔搭社区开源了很多模型和数据集。
人工智能正在改变我们的生活和工作方式。
学习一门新的语言需要时间和耐心。
春天来了，花开了，鸟儿在唱歌。
这个问题很有意思，我们来看看。
请用中文回答我的问题。
"""

CODE_SNIPPETS = """\
def add(a, b):
    return a + b
for i in range(10):
    print(i ** 2)
if x > 0 and y < 5: result = [x, y]
import torch; model = torch.nn.Linear(128, 384)
{"role": "user", "content": "hello"}
<tool_call>{"name": "get_weather", "arguments": {"city": "Beijing"}}</tool_call>
<think>The user wants a number.</think>
x = {'a': 1, 'b': [2, 3], 'c': None}  # comment
SELECT name, age FROM users WHERE age >= 18;
$ swift sft --model swift/tiny-qwen2 --dataset self-cognition#100
0 1 2 3 4 5 6 7 8 9 10 11 12 100 256 1024 2048 3.14 2.718 -1 1e-4 0.001 50%
"""

# Common words, composed into extra sentences so the vocabulary covers everyday text beyond the examples.
EN_WORDS = """\
time year people way day man woman child world life hand part place case week company system program question
work government number night point home water room mother area money story fact month lot right study book eye
job word business issue side kind head house service friend father power hour game line end member law car city
community name president team minute idea kid body information back parent face others level office door health
person art war history party result change morning reason research girl guy moment air teacher force education
foot boy age policy music market sense nation plan college interest death experience effect class control care
field development role effort rate heart drug show leader light voice wife police mind price report decision son
view relationship town road arm difference value building action model season society tax director position
player record paper space ground form event official matter center couple site project activity star table need
court oil situation cost industry figure street image phone data picture practice piece land product doctor wall
patient worker news test movie north love support technology step baby computer type attention film tree source
answer language assistant network dataset training token layer weight gradient batch memory speed quality
good new first last long great little own other old big high different small large next early young important
few public bad same able free sure better best simple clear happy easy hard strong short true real full special
make know think take see come want look use find give tell ask work seem feel try leave call keep help start
show hear play run move live believe hold bring happen write provide sit stand lose pay meet include continue
learn change lead understand watch follow stop create speak read allow add spend grow open walk win offer
remember love consider appear buy wait serve die send expect build stay fall cut reach kill remain suggest
"""

ZH_WORDS = """\
时间 年 人们 方法 天 世界 生活 部分 地方 问题 工作 政府 数字 晚上 家 水 房间 母亲 钱 故事 事实 月 学习 书 眼睛
公司 系统 程序 朋友 父亲 力量 小时 游戏 城市 社区 名字 团队 分钟 想法 孩子 身体 信息 父母 办公室 健康 艺术
历史 结果 变化 早上 原因 研究 老师 教育 年龄 政策 音乐 市场 国家 计划 大学 兴趣 经验 效果 发展 作用 价格
报告 决定 关系 道路 价值 建筑 行动 模型 季节 社会 位置 记录 空间 项目 活动 中心 产品 医生 技术 电脑 电影
数据 图片 语言 网络 数据集 训练 参数 梯度 内存 速度 质量 好 新 第一 最后 长 伟大 小 老 大 高 不同 重要
简单 清楚 快乐 容易 困难 强大 真正 特别 知道 认为 看见 来 想要 使用 发现 给 告诉 问 觉得 尝试 离开 帮助
开始 听 玩 跑 移动 相信 发生 提供 坐 站 支付 见面 包括 继续 理解 观察 停止 创造 说话 阅读 允许 增加 成长
打开 走路 赢 记得 喜欢 考虑 出现 购买 等待 服务 发送 期望 建立 留下 到达 建议 北京 上海 杭州 深圳 中国
"""


def _self_cognition_lines():
    if not os.path.exists(SELF_COGNITION):
        return []
    lines = []
    with open(SELF_COGNITION, encoding='utf-8') as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for row, (zh_name, en_name), (zh_author, en_author) in zip(rows, itertools.cycle(NAMES),
                                                                 itertools.cycle(AUTHORS)):
        for value in row.values():
            if not isinstance(value, str):
                continue
            for name, author in ((zh_name, zh_author), (en_name, en_author)):
                lines.append(value.replace('{{NAME}}', name).replace('{{AUTHOR}}', author))
    return lines


def _identity_lines():
    """'I am X, trained by Y' style chat in both languages for every name pair."""
    lines = []
    for (zh_name, en_name), (zh_author, en_author) in itertools.product(NAMES, AUTHORS):
        lines += [f'I am {en_name}, an AI assistant developed by {en_author}.',
                  f'My name is {en_name}. I was trained by {en_author}.',
                  f'我是{zh_name}，由{zh_author}训练的人工智能助手。',
                  f'我的名字是{zh_name}，我是{zh_author}开发的语言模型。']
    return lines


def _word_lines():
    """Deterministic word sequences: every word appears several times in different neighbours."""
    lines = []
    for words, sep in ((EN_WORDS.split(), ' '), (ZH_WORDS.split(), '')):
        for stride in (1, 3, 7):
            shuffled = words[::stride] + [w for i, w in enumerate(words) if i % stride]
            lines += [sep.join(shuffled[i:i + 8]) for i in range(0, len(shuffled), 8)]
    return lines


def build_corpus():
    base = EN_SENTENCES + ZH_SENTENCES + CODE_SNIPPETS
    lines = [line for line in base.splitlines() if line.strip()]
    lines += _identity_lines() + _word_lines() + _self_cognition_lines()
    # Chat-formatted copies teach merges around the role markers as real prompts look.
    chat = [f'user\n{q}\nassistant\n{a}' for q, a in zip(lines[::2], lines[1::2])]
    return lines + chat


def train(corpus):
    tokenizer = Tokenizer(models.BPE())
    # Qwen2's own split rule: transformers' Qwen2Tokenizer re-applies it on load, so encodings must agree.
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior='isolated'),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=1, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    return tokenizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=DEFAULT_OUT)
    args = parser.parse_args()
    corpus = build_corpus()
    tokenizer = train(corpus)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tokenizer.save(args.out)
    print(f'{len(corpus)} corpus lines -> vocab {tokenizer.get_vocab_size()} -> {args.out}')


if __name__ == '__main__':
    main()
