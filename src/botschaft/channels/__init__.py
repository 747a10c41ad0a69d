"""Channel adapters: one module per messenger behind the ``Channel`` protocol of ``base``.

Nothing past this package sees provider JSON: webhooks become the neutral events of
``events``, and provider answers become the neutral outcomes of ``outcomes``.
"""
