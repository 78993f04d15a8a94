//! Admission webhooks (Validating/MutatingWebhookConfiguration): not called yet.
