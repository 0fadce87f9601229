"""Offline text metrics (`--predict_with_generate`, `swift infer` / `swift eval` scoring, ms-swift's
compute_rouge_bleu): ROUGE-N/ROUGE-L F1 and BLEU-4 on word/character tokens."""
import math
import re
from collections import Counter
from typing import Dict, List, Sequence

# CJK characters count one token each (as ms-swift's jieba-free fallback); other text splits into words and
# punctuation marks.
_TOKEN_RE = re.compile(r'[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|\w+|[^\w\s]')


def tokenize(text: str) -> List[str]:
    return _TOKEN_RE.findall(text.lower())


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    pred, ref = tokenize(prediction), tokenize(reference)
    lcs = _lcs(pred, ref)
    if lcs == 0:
        return 0.
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(prediction: str, reference: str, n: int) -> float:
    """F1 of the n-grams the prediction shares with the reference."""
    pred, ref = _ngrams(tokenize(prediction), n), _ngrams(tokenize(reference), n)
    overlap = sum((pred & ref).values())
    if overlap == 0:
        return 0.
    precision, recall = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def bleu4(prediction: str, reference: str) -> float:
    """Sentence BLEU-4 with add-one smoothing of the n-gram precisions (Lin and Och, 2004) and brevity penalty."""
    pred, ref = tokenize(prediction), tokenize(reference)
    if not pred or not ref:
        return 0.
    log_precision = 0.
    for n in range(1, 5):
        pred_ngrams, ref_ngrams = _ngrams(pred, n), _ngrams(ref, n)
        overlap = sum(min(c, ref_ngrams[g]) for g, c in pred_ngrams.items())
        total = max(len(pred) - n + 1, 0)
        smooth = 0 if n == 1 else 1
        if overlap + smooth == 0:
            return 0.
        log_precision += math.log((overlap + smooth) / (total + smooth)) / 4
    brevity = min(0., 1 - len(ref) / len(pred))
    return math.exp(brevity + log_precision)


def nlg_scores(predictions: Sequence[str], references: Sequence[str]) -> Dict[str, List[float]]:
    """Per-sample 'rouge-l' and 'bleu-4' (fractions in [0, 1])."""
    pairs = list(zip(predictions, references))
    return {'rouge-l': [rouge_l(p, r) for p, r in pairs], 'bleu-4': [bleu4(p, r) for p, r in pairs]}
