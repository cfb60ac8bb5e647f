"""Stored Responses API answers (for GET, input_items and previous_response_id); never the API key."""
from django.db import models


class StoredResponse(models.Model):
    """One Response as it was returned, the input it answered, and its place in a conversation."""

    id = models.CharField(primary_key=True, max_length=64)
    # core.identity.fingerprint of the key that created it: only that key may read or continue it.
    key_fingerprint = models.CharField(max_length=64)
    previous_response_id = models.CharField(max_length=64, null=True, blank=True)
    # The first response of the conversation: a whole chain is fetched with one query.
    root_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    model = models.CharField(max_length=200)
    status = models.CharField(max_length=16)
    input_items = models.JSONField()
    response = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["root_id", "key_fingerprint"], name="api_response_chain")]

    def __str__(self) -> str:
        return f"{self.id} ({self.model}, {self.status})"
