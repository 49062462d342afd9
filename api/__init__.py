"""The partner API: JSON over plain Django views, calling the same services as the HTML pages."""
