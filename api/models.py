"""Stored Responses API answers (never the API key), and the model aliases the admin manages."""
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


class ModelAlias(models.Model):
    """A model name clients send (e.g. `claude-sonnet-4-5`) and the 1min.ai model that serves it."""

    alias = models.CharField(max_length=200, unique=True, help_text="The name clients send.")
    target = models.CharField(max_length=200, help_text="The 1min.ai model id that answers it.")
    note = models.CharField(max_length=200, blank=True)
    # "env": created from MODEL_ALIASES at start-up (never overwritten afterwards); "admin": by hand.
    source = models.CharField(max_length=8, default="admin", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["alias"]
        verbose_name = "model alias"
        verbose_name_plural = "model aliases"

    def __str__(self) -> str:
        return f"{self.alias} → {self.target}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from api.model_aliases import AliasSyntaxError, check_pair

        try:
            self.alias, self.target = check_pair(self.alias, self.target)
        except AliasSyntaxError as error:
            raise ValidationError(str(error)) from None
