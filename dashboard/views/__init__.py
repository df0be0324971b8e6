"""HTML blueprints: the home page, the dashboard and the chat page."""
