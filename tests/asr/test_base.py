from __future__ import annotations

from ivr.asr.base import AsrResult, AsrWord


def test_result_confidence_and_emptiness() -> None:
    empty = AsrResult(" ", is_final=True)
    assert empty.confidence is None and empty.is_empty
    words = (AsrWord("a", 0.0, 0.1, 0.5), AsrWord("b", 0.1, 0.2, 1.0))
    result = AsrResult("a b", is_final=True, words=words)
    assert result.confidence == 0.75 and not result.is_empty
