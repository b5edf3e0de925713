"""What a notification says: an email (plain text and HTML, from Jinja2 templates) or an SMS.

Everything a user wrote (names, subjects, message text) is escaped in the HTML by the template
engine's autoescaping; the plain-text part and the SMS carry it as written.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import pathlib
import unicodedata
from email.message import EmailMessage
from email.policy import SMTP

import jinja2

from server.chat.missed import Missed

TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "templates" / "notifications"
environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(["html"], default_for_string=False, default=False),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
SMS_MAX = 320


@dataclasses.dataclass(frozen=True)
class Letter:
    """One notification email, before it is addressed."""

    subject: str
    text: str
    html: str
    headers: dict[str, str]

    def to(self, address: str, sender: str) -> EmailMessage:
        message = EmailMessage(policy=SMTP)
        message["From"] = sender
        message["To"] = address
        message["Subject"] = self.subject
        message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        for name, value in self.headers.items():
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


def one_line(text: str) -> str:
    """Text for a header (a subject, a display name): line breaks and other control characters are
    spaces, so what users wrote can never start a header of its own."""
    return " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in text).split())


def title(missed: Missed) -> str:
    """The conversation as the recipient knows it: its subject, or who else is in it."""
    if missed.subject:
        return one_line(missed.subject)
    if missed.others:
        return "your conversation with " + _names([one_line(name) for name in missed.others])
    return "your conversation"


def heading(missed: Missed) -> str:
    count = missed.count
    senders = list(dict.fromkeys(one_line(m.sender) or "Someone" for m in missed.messages))
    if count == 1:
        return f"{senders[0]} sent you a message" + (f" in {one_line(missed.subject)}" if missed.subject else "")
    return f"{count} new messages in {title(missed)}"


def letter(missed: Missed, unsubscribe_url: str, reply_address: str | None, message_id: str) -> Letter:
    context = {
        "app_name": missed.app_name,
        "heading": heading(missed),
        "subject": heading(missed),
        "messages": [{"sender": m.sender, "text": m.text, "time": _time(m.created_at)} for m in missed.messages],
        "earlier": missed.earlier,
        "link": missed.link,
        "reply_address": reply_address,
        "unsubscribe_url": unsubscribe_url,
    }
    headers = {
        "Message-ID": message_id,  # the same for every attempt: a resend after a crash is recognisably one
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
        "Auto-Submitted": "auto-generated",
        **({"Reply-To": reply_address} if reply_address else {}),
    }
    return Letter(
        subject=f"{heading(missed)} ({one_line(missed.app_name)})",
        text=environment.get_template("email.txt").render(context),
        html=environment.get_template("email.html").render(context),
        headers=headers,
    )


def sms(missed: Missed) -> str:
    context = {
        "app_name": missed.app_name,
        "messages": [{"sender": m.sender, "text": m.text} for m in missed.messages],
        "total": missed.count,
        "title": title(missed),
        "link": missed.link,
    }
    text = environment.get_template("sms.txt").render(context).strip()
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "…"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _time(ms: int) -> str:
    at = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return at.strftime("%-d %b %Y, %H:%M UTC")
