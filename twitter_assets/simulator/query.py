"""The recent-search query language: parse a `query` into a predicate over tweets.

Supported, as the API documents it: whitespace = AND (binds tighter than OR), `OR`, parentheses,
`"exact phrase"`, `-negation`, `@mention`, `#hashtag`, `$cashtag`, `from:`, `to:`, `retweets_of:`,
`conversation_id:`, `url:`, `is:retweet|reply|quote|verified`, `lang:xx`,
`has:links|mentions|hashtags|cashtags|media|images|videos|geo` (media and geo never match: the corpora
do not model them). A bare keyword matches case-insensitively as a whole word of the text, or equals
the author's or the replied-to user's handle: that is how the real API answered `AluraOnline` with the
account's own tweets. Errors use the API's wording ("There were errors processing your request: ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from twitter_assets.simulator.records import Tweet, User

Predicate = Callable[[Tweet], bool]
UserLookup = Callable[[int], User | None]

MAX_QUERY_LENGTH = 512
_STANDALONE_OPERATORS = {"from", "to", "retweets_of", "conversation_id", "url"}
_CONJUNCTION_OPERATORS = {"is", "has", "lang"}
_IS_VALUES = {"retweet", "reply", "quote", "verified"}
_HAS_VALUES = {"links", "mentions", "hashtags", "cashtags", "media", "images", "videos", "geo"}
_LINK_RE = re.compile(r"https?://", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@\w{1,15}")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")
_CASHTAG_RE = re.compile(r"(?<![\w$])\$[A-Za-z]{1,6}(?!\w)")


class QuerySyntaxError(ValueError):
    """The query is not valid; the message is the API's."""

    def __init__(self, detail: str, position: int):
        super().__init__(f"There were errors processing your request: {detail} (at position {position})")


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "OR", "term", "phrase"
    text: str
    position: int  # 1-based, like the API's messages
    negated: bool = False


@dataclass(frozen=True)
class _Node:
    """A parsed clause: its predicate and whether it can stand alone (is/has/lang and negations cannot)."""

    matches: Predicate
    standalone: bool
    conjunction_only: bool = False  # a positive is:/has:/lang: clause with nothing standalone beside it


def compile_query(query: str, users: UserLookup) -> Predicate:
    """A predicate for `query`; raises QuerySyntaxError with the API's message when it is invalid."""
    parser = _Parser(_tokenize(query), users)
    node = parser.parse()
    if not node.standalone:
        detail = (
            "is/has/lang cannot be used as a standalone operator"
            if node.conjunction_only
            else "Rules must contain at least one positive, non-stopword clause"
        )
        raise QuerySyntaxError(detail, 1)
    return node.matches


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    index, length = 0, len(query)
    while index < length:
        char = query[index]
        if char.isspace():
            index += 1
            continue
        if char in "()":
            tokens.append(_Token(char, char, index + 1))
            index += 1
            continue
        start, negated = index, False
        if char == "-" and index + 1 < length and not query[index + 1].isspace():
            negated, index = True, index + 1
        if query[index] == "(":
            tokens.append(_Token("(", "(", start + 1, negated))
            index += 1
            continue
        if query[index] == '"':
            end = query.find('"', index + 1)
            if end < 0:
                raise QuerySyntaxError("no viable alternative at character '\"'", index + 1)
            tokens.append(_Token("phrase", query[index + 1 : end], start + 1, negated))
            index = end + 1
            continue
        end = index
        while end < length and not query[end].isspace() and query[end] not in '()"':
            end += 1
        if end < length and query[end] == '"' and query[end - 1] == ":":  # operator with a quoted value
            close = query.find('"', end + 1)
            if close < 0:
                raise QuerySyntaxError("no viable alternative at character '\"'", end + 1)
            text, end = query[index:end] + query[end + 1 : close], close + 1
        else:
            text = query[index:end]
        kind = "OR" if text == "OR" and not negated else "term"
        tokens.append(_Token(kind, text, start + 1, negated))
        index = end
    return tokens


class _Parser:
    """Recursive descent: or := and ('OR' and)* ; and := unary+ ; unary := ['-'] ( '(' or ')' | term )."""

    def __init__(self, tokens: list[_Token], users: UserLookup):
        self.tokens = tokens
        self.index = 0
        self.users = users

    def parse(self) -> _Node:
        if not self.tokens:
            raise QuerySyntaxError("Rules must contain at least one positive, non-stopword clause", 1)
        node = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise QuerySyntaxError(f"missing EOF at '{token.text}'", token.position)
        return node

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _or(self) -> _Node:
        alternatives = [self._and()]
        while (token := self._peek()) is not None and token.kind == "OR":
            self.index += 1
            alternatives.append(self._and())
        if len(alternatives) == 1:
            return alternatives[0]
        predicates = [node.matches for node in alternatives]
        return _Node(
            lambda tweet: any(predicate(tweet) for predicate in predicates),
            standalone=all(node.standalone for node in alternatives),
            conjunction_only=any(node.conjunction_only for node in alternatives),
        )

    def _and(self) -> _Node:
        clauses: list[_Node] = []
        while (token := self._peek()) is not None and token.kind not in ("OR", ")"):
            clauses.append(self._unary())
        if not clauses:
            token = self._peek()
            where = token.position if token else (self.tokens[-1].position + len(self.tokens[-1].text))
            raise QuerySyntaxError(f"no viable alternative at input '{token.text if token else '<EOF>'}'", where)
        if len(clauses) == 1:
            return clauses[0]
        predicates = [node.matches for node in clauses]
        standalone = any(node.standalone for node in clauses)
        return _Node(
            lambda tweet: all(predicate(tweet) for predicate in predicates),
            standalone=standalone,
            conjunction_only=not standalone and any(node.conjunction_only for node in clauses),
        )

    def _unary(self) -> _Node:
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "(":
            node = self._or()
            closing = self._peek()
            if closing is None or closing.kind != ")":
                where = closing.position if closing else self.tokens[-1].position + len(self.tokens[-1].text)
                raise QuerySyntaxError("mismatched input '<EOF>' expecting ')'", where)
            self.index += 1
        elif token.kind == "phrase":
            node = _Node(_phrase(token.text), standalone=True)
        else:
            node = self._term(token)
        if token.negated:
            predicate = node.matches
            return _Node(lambda tweet: not predicate(tweet), standalone=False)
        return node

    def _term(self, token: _Token) -> _Node:
        text = token.text
        if text[0] in "@#$" and len(text) > 1:
            pattern = re.compile(rf"(?<![\w{re.escape(text[0])}]){re.escape(text)}(?!\w)", re.IGNORECASE)
            return _Node(lambda tweet: pattern.search(tweet.text) is not None, standalone=True)
        if text.lower() == "and" and not token.negated:
            raise QuerySyntaxError(
                'Ambiguous use of and as a keyword. Use a space to logically join two clauses, or "and" to find '
                "occurrences of and in text",
                token.position,
            )
        name, colon, value = text.partition(":")
        if not colon or not name or not value:
            return _Node(self._keyword(text), standalone=True)
        operator = name.lower()
        if operator in _STANDALONE_OPERATORS:
            return _Node(self._standalone(operator, value), standalone=True)
        if operator in _CONJUNCTION_OPERATORS:
            return _Node(self._conjunction(operator, value.lower(), token), standalone=False, conjunction_only=True)
        raise QuerySyntaxError(f"Reference to invalid operator '{name}'", token.position)

    # ---- predicates --------------------------------------------------------------------------
    def _handle(self, user_id: int | None) -> str | None:
        user = self.users(user_id) if user_id is not None else None
        return user.username.lower() if user else None

    def _is_user(self, user_id: int | None, who: str) -> bool:
        """`who` is a handle (case-insensitive) or a numeric user id."""
        return user_id is not None and (str(user_id) == who or self._handle(user_id) == who)

    def _keyword(self, word: str) -> Predicate:
        pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
        handle = word.lower()
        handle_of = self._handle
        return lambda tweet: (
            pattern.search(tweet.text) is not None
            or handle_of(tweet.author_id) == handle
            or handle_of(tweet.in_reply_to_user_id) == handle
        )

    def _standalone(self, operator: str, value: str) -> Predicate:
        who = value.lstrip("@").lower()
        if operator == "from":
            return lambda tweet: self._is_user(tweet.author_id, who)
        if operator == "to":
            return lambda tweet: self._is_user(tweet.in_reply_to_user_id, who)
        if operator == "retweets_of":
            prefix = f"rt @{who}:"
            return lambda tweet: _is_retweet(tweet) and tweet.text.lower().startswith(prefix)
        if operator == "conversation_id":
            return lambda tweet: str(tweet.conversation_id) == value
        return lambda tweet: value.lower() in tweet.text.lower()  # url:

    def _conjunction(self, operator: str, value: str, token: _Token) -> Predicate:
        if operator == "lang":
            return lambda tweet: tweet.lang == value
        if operator == "is" and value in _IS_VALUES:
            if value == "retweet":
                return _is_retweet
            if value == "reply":
                return lambda tweet: tweet.in_reply_to_user_id is not None or _references(tweet, "replied_to")
            if value == "quote":
                return lambda tweet: _references(tweet, "quoted")
            return lambda tweet: bool((user := self.users(tweet.author_id)) and user.verified)
        if operator == "has" and value in _HAS_VALUES:
            pattern = {
                "links": _LINK_RE,
                "mentions": _MENTION_RE,
                "hashtags": _HASHTAG_RE,
                "cashtags": _CASHTAG_RE,
            }.get(value)
            if pattern is None:
                return lambda tweet: False
            return lambda tweet: pattern.search(tweet.text) is not None
        raise QuerySyntaxError(f"Reference to invalid operator '{operator}:{value}'", token.position)


def _phrase(phrase: str) -> Predicate:
    words = phrase.split()
    if not words:
        return lambda tweet: False
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)
    return lambda tweet: pattern.search(tweet.text) is not None


def _references(tweet: Tweet, kind: str) -> bool:
    return any(reference_type == kind for reference_type, _ in tweet.referenced_tweets or ())


def _is_retweet(tweet: Tweet) -> bool:
    """By reference when known; a recording without `referenced_tweets` still has the RT prefix."""
    if tweet.referenced_tweets is None:
        return tweet.text.startswith("RT @")
    return _references(tweet, "retweeted")
