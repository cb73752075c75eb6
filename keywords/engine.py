"""The dialog engine: a message (and the open choice, if any) in, replies and the next choice state out.

Pure logic over an immutable :class:`KeywordTree`; its only I/O is the two things it is given: ``run_algorithm``
and the bot's ``texts``. The caller keeps :class:`ChoiceState` per chat (``to_dict``/``from_dict``) and orders
things: :meth:`KeywordEngine.answer_open_choice` counts as the open dialog step (before built-in commands),
:meth:`KeywordEngine.handle_top_level` comes after code mode; ``None`` from it means the unknown-request answer.

The choice history (``_ДанныеДляОбработки``) is the list of picks since the chain of choices began: a choice
reached from the top level starts an empty chain, a pick adds ``{"keyword": <first word of the choice>,
"choice": <the picked label>}``, and a «Ключевое слово» jump starts a new, empty chain. An algorithm's
:class:`~processes.errors.ProcessError` becomes the ``algorithm_failed`` text (``algorithm_stopped`` when it
carries a ``limit``, as the runner's «stopped» errors do) and is handed back in :attr:`Outcome.error`.
"""

from __future__ import annotations

from keywords.dialog import AlgorithmRunner, AlgorithmValue, ChoiceState, Outcome, Pick, Reply, Texts, format_value
from keywords.errors import KeywordError
from keywords.matching import MAX_ALIAS_DEPTH, KeywordNode, KeywordTree, normalise
from keywords.models import KeywordKind
from processes.errors import ProcessError


class KeywordEngine:
    """Answers messages from one bot's keyword tree; cheap to build, holds no per-chat data."""

    def __init__(
        self, tree: KeywordTree, run_algorithm: AlgorithmRunner, texts: Texts, max_depth: int = MAX_ALIAS_DEPTH
    ) -> None:
        self.tree = tree
        self._run_algorithm = run_algorithm
        self._texts = texts
        self._max_depth = max_depth

    def handle(self, text: str, state: ChoiceState | None) -> Outcome | None:
        """The open choice's answer to ``text``, else the top-level keyword's; None when neither knows it."""
        if state is not None:
            outcome = self.answer_open_choice(text, state)
            if outcome is not None:
                return outcome
        return self.handle_top_level(text)

    def handle_top_level(self, text: str) -> Outcome | None:
        """The answer of the live top-level record ``text`` names, or None (then: the unknown-request answer)."""
        node = self.tree.top(text)
        return None if node is None else self._act(node, (), 0)

    def answer_open_choice(self, text: str, state: ChoiceState) -> Outcome | None:
        """``text`` as the answer to the open choice ``state``; None when it is not one (drop the state, go on).

        A state from another revision of the tree never acts: a press on one of its buttons gets
        ``choice_expired`` (unless the text is a top-level keyword, then None)."""
        node = self.tree.node(state.node_id)
        if state.revision != self.tree.revision or node is None or node.kind is not KeywordKind.CHOICE:
            return self._expired(text, state)
        if state.pending is not None:
            return self._confirmation(text, node, state)
        label = self._picked_label(node, state, text)
        if label is None:
            return None
        if node.confirm:
            asked = Reply(text=self._texts.get("choice_confirm", choice=label), buttons=self._yes_no())
            return Outcome(replies=(asked,), state=state.model_copy(update={"pending": label}))
        return self._pick(node, state, label)

    def _yes_no(self) -> tuple[str, str]:
        return self._texts.get("button_yes"), self._texts.get("button_no")

    def _expired(self, text: str, state: ChoiceState) -> Outcome | None:
        buttons = (*state.offered, *(self._yes_no() if state.pending is not None else ()))
        if self.tree.top(text) is not None or normalise(text) not in {normalise(label) for label in buttons}:
            return None
        return Outcome(replies=(Reply(text=self._texts.get("choice_expired")),))

    def _confirmation(self, text: str, node: KeywordNode, state: ChoiceState) -> Outcome | None:
        yes, no = self._yes_no()
        if normalise(text) == normalise(yes) and state.pending is not None:
            return self._pick(node, state, state.pending)
        if normalise(text) == normalise(no):
            return self._offer(node, state.offered, state.history)
        return None

    def _picked_label(self, node: KeywordNode, state: ChoiceState, text: str) -> str | None:
        if node.dynamic:
            return next((label for label in state.offered if normalise(label) == normalise(text)), None)
        child = node.options.get(normalise(text))
        return None if child is None else child.label

    def _pick(self, node: KeywordNode, state: ChoiceState, label: str) -> Outcome:
        history = (*state.history, Pick(keyword=node.label, choice=label))
        child = node.live_children[0] if node.dynamic else node.options.get(normalise(label))
        if child is None:  # pragma: no cover - the same revision has the same options
            return Outcome(replies=(Reply(text=self._texts.get("choice_expired")),))
        return self._act(child, history, 0)

    def _act(self, node: KeywordNode, history: tuple[Pick, ...], depth: int) -> Outcome:
        if node.kind is KeywordKind.TEXT:
            return Outcome(replies=(Reply(text=node.answer),))
        if node.kind is KeywordKind.KEYWORD:
            return self._jump(node, depth)
        if node.kind is KeywordKind.CHOICE and not node.dynamic:
            return self._offer(node, tuple(child.label for child in node.live_children), history)
        try:
            value = self._run_algorithm(node.algorithm or "", [pick.model_dump() for pick in history])
        except ProcessError as error:
            key = "algorithm_stopped" if getattr(error, "limit", None) else "algorithm_failed"
            return Outcome(replies=(Reply(text=self._texts.get(key, reason=error.message)),), error=error)
        labels = _labels(value, self._texts)
        if node.kind is KeywordKind.CHOICE and labels:
            return self._offer(node, labels, history)
        return Outcome(replies=(self._value_reply(value, labels),))

    def _jump(self, node: KeywordNode, depth: int) -> Outcome:
        target = self.tree.top(node.target or "")
        if depth >= self._max_depth or target is None:
            problem = "слишком много переходов" if target is not None else "слово не найдено"
            error = KeywordError(f"Ключевое слово «{node.label}» → «{node.target}»: {problem}")
            return Outcome(replies=(Reply(text=self._texts.get("keyword_broken")),), error=error)
        return self._act(target, (), depth + 1)

    def _offer(self, node: KeywordNode, labels: tuple[str, ...], history: tuple[Pick, ...]) -> Outcome:
        title = node.title or self._texts.get("keyword_choose")
        state = ChoiceState(revision=self.tree.revision, node_id=node.id, offered=labels, history=history)
        return Outcome(replies=(Reply(text=title, buttons=labels),), state=state)

    def _value_reply(self, value: AlgorithmValue, labels: tuple[str, ...]) -> Reply:
        if labels:
            return Reply(text=self._texts.get("algorithm_buttons"), buttons=labels)
        if value is None or isinstance(value, list) or (isinstance(value, str) and not value.strip()):
            return Reply(text=self._texts.get("algorithm_done"))
        return Reply(text=format_value(value, self._texts))


def _labels(value: AlgorithmValue, texts: Texts) -> tuple[str, ...]:
    """A list result as button labels (empty items dropped); () for a scalar result."""
    if not isinstance(value, list):
        return ()
    shown = (format_value(item, texts) for item in value if item is not None)
    return tuple(label for label in shown if label.strip())
