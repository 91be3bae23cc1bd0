"""The unified AI service: ``from aiadmin.unified import UnifiedAIService``."""

from .results import (
    Article,
    AvailableModel,
    BrowsedModel,
    BrowseResult,
    CallInfo,
    ChatReply,
    ContentReply,
    ImageReply,
    SpeechReply,
    StreamSummary,
    TranscriptReply,
)
from .service import UnifiedAIService

__all__ = [
    "Article",
    "AvailableModel",
    "BrowseResult",
    "BrowsedModel",
    "CallInfo",
    "ChatReply",
    "ContentReply",
    "ImageReply",
    "SpeechReply",
    "StreamSummary",
    "TranscriptReply",
    "UnifiedAIService",
]
