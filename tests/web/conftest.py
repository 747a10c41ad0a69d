from web_app import running_app

__all__ = ["running_app"]
