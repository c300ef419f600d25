"""The fixed parts of the X API v2 contract: parameter vocabularies and error bodies, as the API sends them."""

from __future__ import annotations

from typing import Any

SEARCH_PARAMETERS = (
    "query",
    "start_time",
    "end_time",
    "since_id",
    "until_id",
    "max_results",
    "next_token",
    "pagination_token",
    "sort_order",
    "expansions",
    "tweet.fields",
    "media.fields",
    "poll.fields",
    "place.fields",
    "user.fields",
)
USER_LOOKUP_PARAMETERS = ("expansions", "tweet.fields", "user.fields")

TWEET_FIELDS = (
    "article",
    "attachments",
    "author_id",
    "card_uri",
    "community_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "display_text_range",
    "edit_controls",
    "edit_history_tweet_ids",
    "entities",
    "geo",
    "id",
    "in_reply_to_user_id",
    "lang",
    "media_metadata",
    "non_public_metrics",
    "note_tweet",
    "organic_metrics",
    "possibly_sensitive",
    "promoted_metrics",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
    "scopes",
    "source",
    "text",
    "withheld",
)
USER_FIELDS = (
    "affiliation",
    "confirmed_email",
    "connection_status",
    "created_at",
    "description",
    "entities",
    "id",
    "is_identity_verified",
    "location",
    "most_recent_tweet_id",
    "name",
    "parody",
    "pinned_tweet_id",
    "profile_banner_url",
    "profile_image_url",
    "protected",
    "public_metrics",
    "receives_your_dm",
    "subscription",
    "subscription_type",
    "url",
    "username",
    "verified",
    "verified_followers_count",
    "verified_type",
    "withheld",
)
MEDIA_FIELDS = (
    "alt_text",
    "duration_ms",
    "height",
    "media_key",
    "non_public_metrics",
    "organic_metrics",
    "preview_image_url",
    "promoted_metrics",
    "public_metrics",
    "type",
    "url",
    "variants",
    "width",
)
POLL_FIELDS = ("duration_minutes", "end_datetime", "id", "options", "voting_status")
PLACE_FIELDS = ("contained_within", "country", "country_code", "full_name", "geo", "id", "name", "place_type")
SEARCH_EXPANSIONS = (
    "article.cover_media",
    "article.media_entities",
    "attachments.media_keys",
    "attachments.media_source_tweet",
    "attachments.poll_ids",
    "author_id",
    "edit_history_tweet_ids",
    "entities.mentions.username",
    "entities.note.mentions.username",
    "geo.place_id",
    "in_reply_to_user_id",
    "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys",
    "referenced_tweets.id.author_id",
)
USER_EXPANSIONS = ("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id")
SORT_ORDERS = ("recency", "relevancy")
LIST_PARAMETERS = {
    "tweet.fields": TWEET_FIELDS,
    "user.fields": USER_FIELDS,
    "media.fields": MEDIA_FIELDS,
    "poll.fields": POLL_FIELDS,
    "place.fields": PLACE_FIELDS,
}

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
TOO_MANY_REQUESTS = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
USAGE_CAPPED = {
    "title": "UsageCapExceeded",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": "https://api.twitter.com/2/problems/usage-capped",
    "period": "Monthly",
    "scope": "Product",
}
SERVICE_UNAVAILABLE = {
    "title": "Service Unavailable",
    "detail": "Service Unavailable",
    "type": "about:blank",
    "status": 503,
}
INTERNAL_ERROR = {
    "title": "Internal Server Error",
    "detail": "Internal Server Error",
    "type": "about:blank",
    "status": 500,
}
# Valid JSON that is no search page: what a misbehaving cache or proxy might pass on with a 200.
MALFORMED_PAGE = {"data": [{"id": "1", "text": "cached fragment"}]}
PAGE_NOT_FOUND = {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}


def parameter_error(parameters: dict[str, list[str]], message: str) -> dict[str, Any]:
    """One entry of an invalid-request body's `errors`."""
    return {"parameters": parameters, "message": message}


def invalid_request(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def user_not_found(username: str) -> dict[str, Any]:
    """A 200 body: the lookup itself worked, the user does not exist."""
    return {
        "errors": [
            {
                "value": username,
                "detail": f"Could not find user with username: [{username}].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "username",
                "resource_id": username,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
