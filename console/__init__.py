"""The office console: a local web application over the same pipeline functions as the CLI.

``create_app(config)`` builds the Flask application for one data folder; ``serve`` runs it with
the polling worker in the same process. Nothing imports this package but ``run_pipeline.py``.
"""
