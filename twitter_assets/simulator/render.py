"""Records to API JSON: only the requested fields, only when the record has them, ids as strings.

Keys come out in the API's order (alphabetical, as the real responses list them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from twitter_assets.simulator.records import TWEET_METRICS, Corpus, Tweet, User, format_api_time

_MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
_HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")
_URL_RE = re.compile(r"https?://\S+")
_DEFAULT_USER_FIELDS = frozenset({"id", "name", "username"})


def entities_from_text(text: str, corpus: Corpus) -> dict[str, Any] | None:
    """Hashtags, mentions and urls with code-point offsets, as the API reports them."""
    entities: dict[str, Any] = {}
    hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG_RE.finditer(text)]
    mentions = []
    for match in _MENTION_RE.finditer(text):
        mention: dict[str, Any] = {"start": match.start(), "end": match.end(), "username": match.group(1)}
        user = corpus.user_by_username(match.group(1))
        if user is not None:
            mention["id"] = str(user.id)
        mentions.append(mention)
    urls = [
        {
            "start": m.start(),
            "end": m.end(),
            "url": m.group(0),
            "expanded_url": m.group(0),
            "display_url": m.group(0).split("://", 1)[1],
        }
        for m in _URL_RE.finditer(text)
    ]
    for name, found in (("hashtags", hashtags), ("mentions", mentions), ("urls", urls)):
        if found:
            entities[name] = found
    return entities or None


def render_tweet(tweet: Tweet, fields: frozenset[str], corpus: Corpus) -> dict[str, Any]:
    """`id`, `text` and `edit_history_tweet_ids` always; the rest when asked for and known."""
    tweet_id = str(tweet.id)
    out: dict[str, Any] = {}
    if "author_id" in fields:
        out["author_id"] = str(tweet.author_id)
    if "conversation_id" in fields and tweet.conversation_id is not None:
        out["conversation_id"] = str(tweet.conversation_id)
    if "created_at" in fields:
        out["created_at"] = format_api_time(tweet.created_ms)
    out["edit_history_tweet_ids"] = [tweet_id]
    if "entities" in fields:
        entities = entities_from_text(tweet.text, corpus) if tweet.entities_from_text else tweet.entities
        if entities:
            out["entities"] = entities
    out["id"] = tweet_id
    if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id is not None:
        out["in_reply_to_user_id"] = str(tweet.in_reply_to_user_id)
    if "lang" in fields and tweet.lang is not None:
        out["lang"] = tweet.lang
    if "public_metrics" in fields and tweet.public_metrics is not None:
        out["public_metrics"] = {
            name: value for name, value in zip(TWEET_METRICS, tweet.public_metrics, strict=True) if value is not None
        }
    if "referenced_tweets" in fields and tweet.referenced_tweets:
        out["referenced_tweets"] = [{"type": kind, "id": str(ref)} for kind, ref in tweet.referenced_tweets]
    out["text"] = tweet.text
    return out


def render_user(user: User, fields: frozenset[str]) -> dict[str, Any]:
    """`id`, `name`, `username` always; created_at, description, verified, public_metrics on request."""
    wanted = fields | _DEFAULT_USER_FIELDS
    values = {
        "created_at": user.created_at,
        "description": user.description,
        "id": str(user.id),
        "name": user.name,
        "public_metrics": dict(user.public_metrics) if user.public_metrics is not None else None,
        "username": user.username,
        "verified": user.verified,
    }
    return {name: value for name, value in values.items() if name in wanted and value is not None}


def _mentioned_users(tweet: Tweet, corpus: Corpus) -> Iterable[User]:
    for match in _MENTION_RE.finditer(tweet.text):
        user = corpus.user_by_username(match.group(1))
        if user is not None:
            yield user


def includes(
    page: list[Tweet], fields: frozenset[str], user_fields: frozenset[str], expansions: frozenset[str], corpus: Corpus
) -> dict[str, Any]:
    """The `includes` object for a page: users and referenced tweets the expansions ask for."""
    users: dict[int, User] = {}

    def add(user_id: int | None) -> None:
        if user_id is not None and user_id not in users:
            user = corpus.user_by_id(user_id)
            if user is not None:
                users[user_id] = user

    referenced: dict[int, Tweet] = {}
    for tweet in page:
        if "author_id" in expansions:
            add(tweet.author_id)
        if "in_reply_to_user_id" in expansions:
            add(tweet.in_reply_to_user_id)
        if "entities.mentions.username" in expansions:
            for user in _mentioned_users(tweet, corpus):
                users.setdefault(user.id, user)
        if "referenced_tweets.id" in expansions or "referenced_tweets.id.author_id" in expansions:
            for _, ref in tweet.referenced_tweets or ():
                found = referenced.get(ref) or corpus.tweet_by_id(ref)
                if found is not None:
                    referenced[ref] = found
    if "referenced_tweets.id.author_id" in expansions:
        for tweet in referenced.values():
            add(tweet.author_id)
    result: dict[str, Any] = {}
    if users:
        result["users"] = [render_user(user, user_fields) for user in users.values()]
    if referenced and "referenced_tweets.id" in expansions:
        result["tweets"] = [render_tweet(tweet, fields, corpus) for tweet in referenced.values()]
    return result
