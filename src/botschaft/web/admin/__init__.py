"""The admin app under ``/app/``: server-rendered pages for the owner, marketers and agents.

``auth`` has the dependencies every page uses (``current_user``, ``require_role``, the CSRF
check), ``rendering`` draws a page in the app's frame, and each screen is a module of its own.
"""
