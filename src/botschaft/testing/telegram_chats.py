"""Telegram's side of a bot's private chats, for the fake Bot API.

Who has started the bot and who blocked it, the message ids of each chat, the files people
sent, the callback queries waiting for an answer, and the Updates that people's actions
produce, built as Telegram POSTs them to a webhook.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botschaft.testing.loopback import post_webhook


@dataclass
class Chat:
    """A private chat between the bot and one person."""

    id: int
    first_name: str
    blocked: bool = False
    last_message_id: int = 0
    recent_sends: deque[float] = field(default_factory=deque)  # for the fake's flood limits

    def next_message_id(self) -> int:
        # In a private chat both sides share one sequence of message ids.
        self.last_message_id += 1
        return self.last_message_id


@dataclass(frozen=True)
class StoredFile:
    """A file people sent; ``path`` is what ``getFile`` names for the download."""

    path: str
    content: bytes


class TelegramChats:
    """The chats of the bot whose token is given; ``clock`` (Unix seconds) dates messages."""

    def __init__(self, token: str, bot_username: str, clock: Callable[[], float]) -> None:
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Botschaft Test",
            "username": bot_username,
        }
        self._clock = clock
        self._chats: dict[int, Chat] = {}
        self._files: dict[str, StoredFile] = {}
        self._open_callbacks: set[str] = set()
        self._update_id = 10_000
        self._serial = 0

    def register(self, chat_id: int, first_name: str = "Anna") -> None:
        """Make a private chat known, as if the person had pressed Start."""
        self._chats.setdefault(chat_id, Chat(chat_id, first_name))

    def block(self, chat_id: int) -> None:
        """The person blocks the bot: sends to them fail with 403."""
        self._known(chat_id).blocked = True

    def add_file(self, content: bytes, folder: str = "documents", extension: str = "") -> str:
        """Store a file that ``getFile`` and the download route serve; returns its file_id."""
        self._serial += 1
        file_id = f"AgACAgIAAxkBAAI{self._serial:06d}"
        self._files[file_id] = StoredFile(f"{folder}/file_{self._serial}{extension}", content)
        return file_id

    # -- Updates as Telegram POSTs them -------------------------------------------------

    def user_writes(
        self, chat_id: int, text: str, *, reply_to: int | None = None
    ) -> dict[str, Any]:
        """A text message from the person; the chat becomes known."""
        self.register(chat_id)
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(" ", 1)[0]
            extra["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        if reply_to is not None:
            original = self._message(self._chats[chat_id], reply_to, self.bot_user, {})
            extra["reply_to_message"] = original
        return self._update("message", self._from_person(chat_id, extra))

    def user_starts(self, chat_id: int, payload: str | None = None) -> dict[str, Any]:
        """The person presses Start, through ``t.me/<bot>?start=<payload>`` if given."""
        return self.user_writes(chat_id, "/start" if payload is None else f"/start {payload}")

    def user_sends_photo(
        self, chat_id: int, content: bytes, caption: str | None = None
    ) -> dict[str, Any]:
        """A photo, listed in two sizes as Telegram does; the larger one serves ``content``."""
        small = self.add_file(content[:16], "photos", ".jpg")
        large = self.add_file(content, "photos", ".jpg")
        sizes = [
            {"file_id": small, "file_unique_id": small[-8:], "width": 90, "height": 68},
            {"file_id": large, "file_unique_id": large[-8:], "width": 1280, "height": 960},
        ]
        extra: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            extra["caption"] = caption
        return self._update("message", self._from_person(chat_id, extra))

    def user_taps(self, chat_id: int, data: str, message_id: int) -> dict[str, Any]:
        """The person taps an inline button with ``data`` under the bot's message."""
        chat = self._known(chat_id)
        self._serial += 1
        query_id = f"{self.bot_user['id']}{self._serial:09d}"
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": self._person(chat),
            "message": self._message(chat, message_id, self.bot_user, {"text": "…"}),
            "chat_instance": f"-{chat_id}{self._serial}",
            "data": data,
        }
        return self._update("callback_query", query)

    def user_edits(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The person edits an earlier message."""
        chat = self._known(chat_id)
        edited = self._message(chat, message_id, self._person(chat), {"text": text})
        edited["edit_date"] = int(self._clock())
        return self._update("edited_message", edited)

    def user_blocks_bot(self, chat_id: int) -> dict[str, Any]:
        """The person blocks the bot: later sends fail, and Telegram reports the change."""
        self.block(chat_id)
        chat = self._chats[chat_id]
        change = {
            "chat": {"id": chat_id, "first_name": chat.first_name, "type": "private"},
            "from": self._person(chat),
            "date": int(self._clock()),
            "old_chat_member": {"user": self.bot_user, "status": "member"},
            "new_chat_member": {"user": self.bot_user, "status": "kicked", "until_date": 0},
        }
        return self._update("my_chat_member", change)

    async def deliver_update(self, url: str, update: Mapping[str, Any], secret: str | None) -> int:
        """POST an Update to a webhook as Telegram does; returns the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        return await post_webhook(url, body, headers)

    def _update(self, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        self._update_id += 1
        return {"update_id": self._update_id, kind: content}

    def _from_person(self, chat_id: int, extra: dict[str, Any]) -> dict[str, Any]:
        self.register(chat_id)
        chat = self._chats[chat_id]
        return self._message(chat, chat.next_message_id(), self._person(chat), extra)

    def _person(self, chat: Chat) -> dict[str, Any]:
        return {
            "id": chat.id,
            "is_bot": False,
            "first_name": chat.first_name,
            "language_code": "de",
        }

    def _message(
        self, chat: Chat, message_id: int, sender: Mapping[str, Any], extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "from": dict(sender),
            "chat": {"id": chat.id, "first_name": chat.first_name, "type": "private"},
            "date": int(self._clock()),
            **extra,
        }

    def _known(self, chat_id: int) -> Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} is unknown; register it or let the person write")
        return chat
