"""MCTS over solution steps (steps end at a blank line): select by UCT, expand a node with
`--num_return_sequences` next steps, roll out from nodes at depth >= `--rollout_start_depth` for at most
`--rollout_depth` steps, judge finished solutions with the ORM (mixed with the PRM by `--process_reward_rate`)
and back the values up. Every finished solution becomes a candidate with its ORM score."""
import itertools
import math
from typing import Dict, List, Optional

from .prm import STEP_SEPARATOR
from .rows import columns_of, row_seed, split_prompt
from .samplers import Candidates, request_config

CONTINUE = 'Continue the solution from where it stopped.'


class Node:

    def __init__(self, steps: List[str], parent: Optional['Node'] = None, terminal: bool = False):
        self.steps, self.parent, self.terminal = steps, parent, terminal
        self.children: List['Node'] = []
        self.visits, self.value = 0, 0.

    @property
    def depth(self) -> int:
        return len(self.steps)

    def uct(self, exploration: float) -> float:
        if self.visits == 0:
            return float('inf')
        return self.value / self.visits + exploration * math.sqrt(math.log(self.parent.visits + 1) / self.visits)

    def open(self) -> bool:
        """Still worth visiting: not finished, and not a fully explored subtree."""
        return not self.terminal and (not self.children or any(c.open() for c in self.children))


class MctsSampler:

    def __init__(self, engine, args, scorer):
        self.engine, self.args, self.scorer = engine, args, scorer
        self._seeds = itertools.count()  # the seeds of the current row's requests, from its row_seed on

    def sample(self, rows: List[Dict]) -> List[Candidates]:
        return [self._search(row) for row in rows]

    def _messages(self, prompt: List[dict], steps: List[str]) -> List[dict]:
        if not steps:
            return prompt
        partial = ''.join(steps)
        return prompt + [{'role': 'assistant', 'content': partial}, {'role': 'user', 'content': CONTINUE}]

    def _generate(self, prompt, steps, n: int, one_step: bool) -> List[str]:
        from swift.infer import InferRequest
        stop = [STEP_SEPARATOR] if one_step else []
        config = request_config(self.args, n=n, seed=next(self._seeds) % 2**31)
        config.stop = list(config.stop or []) + stop
        response = self.engine.infer([InferRequest(self._messages(prompt, steps))], config)[0]
        return [c.message.content or '' for c in response.choices]

    def _value(self, prompt, text: str, columns, found: Dict[str, float]) -> float:
        orm = self.scorer.orm_scores([text], columns)[0] or 0.
        found[text] = orm
        rate = self.args.process_reward_rate
        if rate and self.scorer.prm is not None:
            prm = self.scorer.prm_scores(prompt, [text])[0] or 0.
            return (1 - rate) * orm + rate * prm
        return orm

    def _expand(self, node: Node, prompt, columns, found) -> List[float]:
        args, values = self.args, []
        for text in self._generate(prompt, node.steps, args.num_return_sequences, one_step=True):
            terminal = not text.endswith(STEP_SEPARATOR) or node.depth + 1 >= args.rollout_start_depth + \
                args.rollout_depth
            child = Node(node.steps + [text], node, terminal)
            node.children.append(child)
            if terminal:
                values.append(self._value(prompt, ''.join(child.steps), columns, found))
            elif child.depth >= args.rollout_start_depth:
                rest = self._generate(prompt, child.steps, 1, one_step=False)[0]
                steps = (child.steps + rest.split(STEP_SEPARATOR))[:child.depth + args.rollout_depth]
                values.append(self._value(prompt, ''.join(child.steps) + STEP_SEPARATOR.join(
                    steps[child.depth:]), columns, found))
            else:
                values.append(0.)
            child.visits, child.value = 1, values[-1]
        return values

    def _search(self, row: Dict) -> Candidates:
        prompt, _ = split_prompt(row)
        columns = columns_of(row)
        root, found = Node([]), {}
        self._seeds = itertools.count(row_seed(self.args.seed, row['id']))
        for _ in range(self.args.max_iterations):
            if not root.open():
                break
            node = root
            while node.children:
                node = max((c for c in node.children if c.open()), key=lambda c: c.uct(self.args.exploration_rate))
            values = self._expand(node, prompt, columns, found)
            while node is not None:  # back up the mean value of the new children
                node.visits += len(values)
                node.value += sum(values)
                node = node.parent
        return list(found.items())
